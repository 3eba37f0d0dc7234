import { once } from 'node:events';
import { connect, type Socket } from 'node:net';

/** MQTT 3.1.1 packets written by hand, for tests whose attack is at the byte level. */

/** The remaining-length varint [MQTT-2.2.3]. */
export function varint(n: number): Buffer {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return Buffer.from(out);
}

const str = (s: string | Buffer) => {
  const b = Buffer.isBuffer(s) ? s : Buffer.from(s, 'utf8');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
};

const packet = (typeAndFlags: number, body: Buffer) =>
  Buffer.concat([Buffer.from([typeAndFlags]), varint(body.length), body]);

export function connectPacket(opts: {
  clientId: string;
  username?: string;
  password?: string;
  clean?: boolean;
}): Buffer {
  const flags =
    (opts.clean === false ? 0 : 0x02) |
    (opts.username !== undefined ? 0x80 : 0) |
    (opts.password !== undefined ? 0x40 : 0);
  const header = Buffer.concat([str('MQTT'), Buffer.from([4, flags, 0, 60])]);
  const fields = [header, str(opts.clientId)];
  if (opts.username !== undefined) fields.push(str(opts.username));
  if (opts.password !== undefined) fields.push(str(opts.password));
  return packet(0x10, Buffer.concat(fields));
}

export function publishPacket(topic: string, payload: Buffer, messageId?: number): Buffer {
  const id = messageId === undefined ? Buffer.alloc(0) : Buffer.from([messageId >> 8, messageId & 0xff]);
  return packet(messageId === undefined ? 0x30 : 0x32, Buffer.concat([str(topic), id, payload]));
}

/** The header plus topic and message id of a QoS 1 PUBLISH whose whole packet is `size` bytes. */
export function publishOfSize(topic: string, size: number, messageId = 1): Buffer {
  for (let lengthBytes = 1; lengthBytes <= 4; lengthBytes++) {
    const remaining = size - 1 - lengthBytes;
    if (varint(remaining).length === lengthBytes) {
      const payload = Buffer.alloc(remaining - 2 - Buffer.byteLength(topic) - 2, 0x20);
      return publishPacket(topic, payload, messageId);
    }
  }
  throw new Error(`no packet of ${size} bytes`);
}

export function subscribePacket(messageId: number, filters: string[]): Buffer {
  const body = [Buffer.from([messageId >> 8, messageId & 0xff])];
  for (const f of filters) body.push(str(f), Buffer.from([1]));
  return packet(0x82, Buffer.concat(body));
}

/** Splits a received byte stream into packets: type (high nibble of the first byte) and body. */
export function readPackets(bytes: Buffer): { type: number; body: Buffer }[] {
  const out: { type: number; body: Buffer }[] = [];
  let i = 0;
  while (i < bytes.length) {
    const type = bytes[i] >> 4;
    let length = 0;
    let multiplier = 1;
    let j = i + 1;
    for (; j < bytes.length; j++) {
      length += (bytes[j] & 0x7f) * multiplier;
      multiplier *= 128;
      if (!(bytes[j] & 0x80)) break;
    }
    const start = j + 1;
    if (start + length > bytes.length) break;
    out.push({ type, body: bytes.subarray(start, start + length) });
    i = start + length;
  }
  return out;
}

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
