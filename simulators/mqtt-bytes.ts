/**
 * A tiny MQTT 3.1.1 encoder and reader for raw sockets: the packets are built here so that the
 * hostile-client suite and the tests can cut, truncate and corrupt them at the byte level, which
 * mqtt.js will not do.
 */

/** Remaining Length: 7 bits a byte, continuation bit 0x80, at most 4 bytes [MQTT-2.2.3]. */
export function remainingLength(n: number): Buffer {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return Buffer.from(out);
}

/** The largest Remaining Length the four bytes can declare (268,435,455: 256 MiB). */
export const MAX_REMAINING_LENGTH = 268_435_455;

const str = (s: string | Buffer): Buffer => {
  const b = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length & 0xffff);
  return Buffer.concat([len, b]);
};

const packet = (first: number, body: Buffer): Buffer =>
  Buffer.concat([Buffer.from([first]), remainingLength(body.length), body]);

/** Packet types, the high nibble of the first byte [MQTT-2.2.1]. */
export const PACKET = { connack: 2, publish: 3, puback: 4, suback: 9 } as const;

export interface ConnectFields {
  clientId: string;
  username?: string;
  password?: string | Buffer;
  /** Clean session unless false. */
  clean?: boolean;
  /** Seconds; 60 unless given (mqtt.js's default). */
  keepalive?: number;
  /** MQTT 3.1 instead: protocol name "MQIsdp", level 3. */
  v3?: boolean;
}

/** CONNECT [MQTT-3.1]: protocol name "MQTT", level 4 (or MQTT 3.1 with `v3`). */
export function connectPacket(f: ConnectFields): Buffer {
  let flags = f.clean === false ? 0 : 0x02;
  if (f.username !== undefined) flags |= 0x80;
  if (f.password !== undefined) flags |= 0x40;
  const keepalive = Buffer.alloc(2);
  keepalive.writeUInt16BE(f.keepalive ?? 60);
  const protocol = f.v3 ? [str('MQIsdp'), Buffer.from([3, flags])] : [str('MQTT'), Buffer.from([4, flags])];
  const parts = [...protocol, keepalive, str(f.clientId)];
  if (f.username !== undefined) parts.push(str(f.username));
  if (f.password !== undefined) parts.push(str(f.password));
  return packet(0x10, Buffer.concat(parts));
}

/** PUBLISH [MQTT-3.3]; a message id only for QoS > 0. */
export function publishPacket(topic: string, payload: Buffer, qos: 0 | 1, messageId = 1): Buffer {
  const id = Buffer.alloc(2);
  id.writeUInt16BE(messageId);
  return packet(0x30 | (qos << 1), Buffer.concat([str(topic), ...(qos ? [id] : []), payload]));
}

/** A QoS 1 PUBLISH whose whole packet, fixed header included, is `size` bytes (payload spaces). */
export function publishOfSize(topic: string, size: number, messageId = 1): Buffer {
  for (let lengthBytes = 1; lengthBytes <= 4; lengthBytes++) {
    const remaining = size - 1 - lengthBytes;
    if (remainingLength(remaining).length === lengthBytes) {
      const payload = Buffer.alloc(remaining - 2 - Buffer.byteLength(topic) - 2, 0x20);
      return publishPacket(topic, payload, 1, messageId);
    }
  }
  throw new Error(`no packet of ${size} bytes`);
}

/** SUBSCRIBE [MQTT-3.8]: fixed header flags 0b0010, one QoS 1 request per filter. */
export function subscribePacket(filters: string[], messageId = 1): Buffer {
  const id = Buffer.alloc(2);
  id.writeUInt16BE(messageId);
  return packet(0x82, Buffer.concat([id, ...filters.map((f) => Buffer.concat([str(f), Buffer.from([1])]))]));
}

export const disconnectPacket = (): Buffer => Buffer.from([0xe0, 0x00]);

export interface ReceivedPacket {
  type: number;
  body: Buffer;
}

/** Splits what the broker sent into packets; an incomplete tail is left out. */
export function readPackets(bytes: Buffer): ReceivedPacket[] {
  const out: ReceivedPacket[] = [];
  let i = 0;
  while (i < bytes.length) {
    let len = 0;
    let mult = 1;
    let j = i + 1;
    for (; j < bytes.length && j < i + 5; j++) {
      len += (bytes[j] & 0x7f) * mult;
      mult *= 128;
      if (!(bytes[j] & 0x80)) break;
    }
    const start = j + 1;
    if (j >= bytes.length || start + len > bytes.length) break;
    out.push({ type: bytes[i] >> 4, body: bytes.subarray(start, start + len) });
    i = start + len;
  }
  return out;
}
