import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FixedHeaderScanner, PACKET_REFUSAL, type PacketRefusal } from '../gateway/mqtt-packet-guard.ts';
import { remainingLength } from '../simulators/mqtt-bytes.ts';

const limits = { maxConnectBytes: 120, maxPacketBytes: 300 };

/** What the guard must decide for a whole stream, from the packet list itself. */
function expected(
  packets: { type: number; length: number }[],
  acceptAfter: number,
): PacketRefusal | undefined {
  let budget = limits.maxConnectBytes;
  for (const [i, p] of packets.entries()) {
    if (i === 0 && p.type !== 1) return PACKET_REFUSAL.firstNotConnect;
    const size = 1 + remainingLength(p.length).length + p.length;
    if (i >= acceptAfter) {
      if (size > limits.maxPacketBytes) return PACKET_REFUSAL.tooLarge;
    } else {
      budget -= size;
      if (budget < 0) return PACKET_REFUSAL.tooLargeBeforeConnack;
    }
  }
  return undefined;
}

describe('the MQTT fixed header scanner', () => {
  it('decides the same whatever the chunk boundaries, headers split included', () => {
    const packet = fc.record({
      type: fc.integer({ min: 1, max: 14 }),
      length: fc.integer({ min: 0, max: 400 }),
    });
    fc.assert(
      fc.property(
        fc.array(packet, { minLength: 1, maxLength: 12 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 200 }),
        (packets, cuts) => {
          // The CONNACK goes out once the CONNECT is read: accept() before the second packet.
          const scanner = new FixedHeaderScanner(limits);
          let verdict: PacketRefusal | undefined;
          let c = 0;
          for (const [i, p] of packets.entries()) {
            if (i === 1) scanner.accept();
            const bytes = Buffer.concat([
              Buffer.from([p.type << 4]),
              remainingLength(p.length),
              Buffer.alloc(p.length),
            ]);
            for (let at = 0; at < bytes.length && !verdict; ) {
              const step = cuts[c++ % cuts.length];
              verdict = scanner.scan(bytes.subarray(at, at + step));
              at += step;
            }
            if (verdict) break;
          }
          expect(verdict).toBe(expected(packets, 1));
        },
      ),
      { seed: 8, numRuns: 500 },
    );
  });

  it('refuses a remaining length of more than four bytes [MQTT-2.2.3]', () => {
    const scanner = new FixedHeaderScanner(limits);
    expect(scanner.scan(Buffer.from([0x10, 0x80, 0x80]))).toBeUndefined();
    expect(scanner.scan(Buffer.from([0x80, 0x80]))).toBe(PACKET_REFUSAL.malformedLength);
  });
});
