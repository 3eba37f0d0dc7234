import { once } from 'node:events';
import { connect, type Socket } from 'node:net';

/**
 * Raw TCP connections for tests whose attack is at the byte level; the packets come from
 * simulators/mqtt-bytes.ts.
 */

/** A raw TCP connection that remembers every byte it received and whether it was closed. */
export interface RawConnection {
  socket: Socket;
  received(): Buffer;
  closed(): boolean;
}

export async function rawConnection(port: number, host = '127.0.0.1'): Promise<RawConnection> {
  const socket = connect(port, host);
  const chunks: Buffer[] = [];
  let closed = false;
  socket.on('data', (d: Buffer) => chunks.push(d));
  socket.on('error', () => {});
  socket.on('close', () => {
    closed = true;
  });
  await once(socket, 'connect');
  return { socket, received: () => Buffer.concat(chunks), closed: () => closed };
}

/** Writes `total` bytes of filler after `head`, respecting back-pressure, until done or closed. */
export async function stream(
  conn: RawConnection,
  head: Buffer,
  total: number,
  chunk = 1024 ** 2,
): Promise<number> {
  const filler = Buffer.alloc(chunk);
  let sent = 0;
  conn.socket.write(head);
  while (sent < total && !conn.closed() && !conn.socket.destroyed) {
    const ok = conn.socket.write(filler);
    sent += chunk;
    if (!ok)
      await Promise.race([once(conn.socket, 'drain'), once(conn.socket, 'close')]).catch(() => undefined);
  }
  return sent;
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
