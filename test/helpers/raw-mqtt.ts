import { connect, type Socket } from 'node:net';

/** MQTT 3.1.1 packets built by hand, for clients that misbehave at the byte level. */

function varint(n: number): Buffer {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}

function str(s: string | Buffer): Buffer {
  const b = typeof s === 'string' ? Buffer.from(s) : s;
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
}

/** CONNECT with username and password, clean session; `v3` speaks MQTT 3.1 ("MQIsdp"). */
export function connectPacket(opts: { clientId: string; username: string; password: string; v3?: boolean }) {
  const header = opts.v3
    ? Buffer.concat([str('MQIsdp'), Buffer.from([3, 0xc2, 0, 60])])
    : Buffer.concat([str('MQTT'), Buffer.from([4, 0xc2, 0, 60])]);
  const body = Buffer.concat([header, str(opts.clientId), str(opts.username), str(opts.password)]);
  return Buffer.concat([Buffer.from([0x10]), varint(body.length), body]);
}

export function publishQos0(topic: string, payload: Buffer): Buffer {
  const body = Buffer.concat([str(topic), payload]);
  return Buffer.concat([Buffer.from([0x30]), varint(body.length), body]);
}

export interface ConnectResult {
  /** The CONNACK return code, or null when the connection closed without one. */
  returnCode: number | null;
  /** From the CONNECT written to the CONNACK (or close). */
  ms: number;
  socket: Socket;
}

/**
 * Opens a TCP connection (from `localAddress`, e.g. 127.0.0.2: all of 127/8 is loopback), sends
 * `packet` and waits for the CONNACK. The socket is ended unless `keep` is set.
 */
export function rawConnect(
  port: number,
  packet: Buffer,
  opts: { localAddress?: string; keep?: boolean; timeoutMs?: number } = {},
): Promise<ConnectResult> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress: opts.localAddress });
    let start = 0;
    let got = Buffer.alloc(0);
    let settled = false;
    const finish = (returnCode: number | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (!opts.keep) socket.destroy();
      resolve({ returnCode, ms: performance.now() - start, socket });
    };
    const timer = setTimeout(() => {
      socket.destroy();
      if (!settled) reject(new Error(`no CONNACK within ${opts.timeoutMs ?? 10_000} ms`));
      settled = true;
    }, opts.timeoutMs ?? 10_000);
    socket.once('connect', () => {
      start = performance.now();
      socket.write(packet);
    });
    socket.on('data', (d) => {
      got = Buffer.concat([got, d]);
      if (got.length >= 4 && got[0] === 0x20) finish(got[3]!);
    });
    socket.on('error', () => finish(null));
    socket.on('close', () => finish(null));
  });
}
