import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { connectPacket } from '../simulators/mqtt-bytes.ts';
import { startConnectFlood } from './helpers/connect-flood.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';

/** The gateway's log, as it would reach the disk: every byte pino writes. */
function capturedLogger() {
  const out = { bytes: 0, lines: [] as string[] };
  const log = pino(
    { level: 'info' },
    {
      write(line: string) {
        out.bytes += Buffer.byteLength(line);
        if (out.lines.length < 1000) out.lines.push(line);
      },
    },
  );
  return { log, out };
}

describe('refused clients cannot flood the log (issue 8, row 12)', () => {
  let gw: TestGateway | undefined;
  afterEach(async () => gw?.stop());

  it('500 refused CONNECTs with 60 KB client ids write a bounded log, with ids clipped', async () => {
    const { log, out } = capturedLogger();
    // The packet guard would close a 60 KB CONNECT before authentication (row 4, 8 KiB before
    // CONNACK); raised here so that these refusals reach authentication and its log lines.
    const g = await startTestGateway({ log, config: { MQTT_MAX_CONNECT_BYTES: 1024 ** 2 } });
    gw = g;
    const before = out.bytes;
    const id = 'x'.repeat(60_000);
    const flood = startConnectFlood({
      port: g.gateway.mqttPort,
      packet: connectPacket({ clientId: id, username: id, password: 'guess' }),
      concurrency: 50,
      rounds: 10,
      pauseMs: 0,
    });
    await expect.poll(() => flood.total, { timeout: 30_000 }).toBe(500);
    await flood.stop();
    expect(flood.answers['0']).toBeUndefined();
    expect(flood.answers.timeout).toBeUndefined();

    // MQTT 3.1 with the same id: Aedes refuses it itself (maxClientsIdLength, CONNACK 2). From
    // another address: the flood above got 127.0.0.1 banned.
    const v3 = startConnectFlood({
      port: g.gateway.mqttPort,
      localAddress: '127.0.0.3',
      packet: connectPacket({ clientId: id, username: id, password: 'guess', v3: true }),
      concurrency: 10,
      rounds: 1,
      pauseMs: 0,
    });
    await expect.poll(() => v3.total, { timeout: 30_000 }).toBe(10);
    await v3.stop();
    expect(v3.answers).toEqual({ 2: 10 });

    const logged = out.bytes - before;
    console.log(`log written for 510 refused CONNECTs: ${logged} bytes in ${out.lines.length} lines`);
    expect(logged).toBeLessThan(32 * 1024);
    for (const line of out.lines) expect(line.length).toBeLessThan(1024);
    // The lines over the burst are counted, and said once a token is back.
    await expect.poll(() => out.lines.some((l) => l.includes('similar lines')), { timeout: 5000 }).toBe(true);
  }, 60_000);
});
