import type { Socket } from 'node:net';
import type { Aedes } from 'aedes';
import type { LogGuard } from './log-guard.ts';
import type { Metrics } from './metrics.ts';

/** Why the guard closed a connection: the `reason` label of citygate_mqtt_packets_refused_total. */
export const PACKET_REFUSAL = {
  firstNotConnect: 'first_not_connect',
  tooLargeBeforeConnack: 'too_large_before_connack',
  tooLarge: 'too_large',
  malformedLength: 'malformed_length',
  connectTimeout: 'connect_timeout',
} as const;
export type PacketRefusal = (typeof PACKET_REFUSAL)[keyof typeof PACKET_REFUSAL];

export interface PacketLimits {
  /** Bytes a connection may send until its CONNACK: the CONNECT and anything pipelined behind it. */
  maxConnectBytes: number;
  /** Largest packet after CONNACK, fixed header included (the MQTT 5 "Maximum Packet Size" measure). */
  maxPacketBytes: number;
}

const CONNECT = 1;

/**
 * Reads the fixed header of every MQTT packet [MQTT-2.2] as the bytes go by: a type byte, then the
 * remaining length as a varint of at most four bytes [MQTT-2.2.3]. It holds no data, only where it
 * is in the stream, so a header split across chunks costs nothing extra and a packet body is
 * skipped in one step per chunk.
 */
export class FixedHeaderScanner {
  readonly #limits: PacketLimits;
  #bodyLeft = 0;
  #inLength = false;
  #length = 0;
  #multiplier = 1;
  #lengthBytes = 0;
  #first = true;
  #budget: number;
  #accepted = false;

  constructor(limits: PacketLimits) {
    this.#limits = limits;
    this.#budget = limits.maxConnectBytes;
  }

  /** The CONNACK went out with return code 0: from now on each packet has maxPacketBytes. */
  accept(): void {
    this.#accepted = true;
  }

  /** The first limit a chunk breaks, or undefined when every header in it is within bounds. */
  scan(chunk: Uint8Array): PacketRefusal | undefined {
    const end = chunk.length;
    let i = 0;
    while (i < end) {
      if (this.#bodyLeft > 0) {
        const step = Math.min(this.#bodyLeft, end - i);
        this.#bodyLeft -= step;
        i += step;
        continue;
      }
      const byte = chunk[i++];
      if (!this.#inLength) {
        // [MQTT-3.1.0-1]: the first packet from the client is a CONNECT.
        if (this.#first && byte >> 4 !== CONNECT) return PACKET_REFUSAL.firstNotConnect;
        this.#first = false;
        this.#inLength = true;
        this.#length = 0;
        this.#multiplier = 1;
        this.#lengthBytes = 0;
        continue;
      }
      this.#length += (byte & 0x7f) * this.#multiplier;
      this.#multiplier *= 128;
      this.#lengthBytes++;
      if (byte & 0x80) {
        if (this.#lengthBytes === 4) return PACKET_REFUSAL.malformedLength;
        continue;
      }
      this.#inLength = false;
      const size = 1 + this.#lengthBytes + this.#length;
      if (this.#accepted) {
        if (size > this.#limits.maxPacketBytes) return PACKET_REFUSAL.tooLarge;
      } else {
        this.#budget -= size;
        if (this.#budget < 0) return PACKET_REFUSAL.tooLargeBeforeConnack;
      }
      this.#bodyLeft = this.#length;
    }
    return undefined;
  }
}

/**
 * The connection handler to give to net.createServer / tls.createServer in place of broker.handle.
 * Aedes 1.2 has no packet size limit (upstream aedes #831): its parser keeps every byte of a packet
 * until the packet is complete, so one CONNECT declaring 250 MiB makes it buffer 250 MiB before
 * anyone is authenticated. Aedes takes its bytes with `conn.read()` on 'readable'; the guard wraps
 * that one method, so each chunk is checked once, without a copy or another stream, before the
 * parser sees it. While Aedes does not read, the socket stops reading at its high-water mark.
 */
export function guardMqttConnections(
  broker: Aedes,
  opts: { limits: PacketLimits; metrics: Metrics; logs: LogGuard },
): (conn: Socket) => void {
  const { limits, metrics, logs } = opts;
  const scanners = new WeakMap<object, FixedHeaderScanner>();
  const refuse = (reason: PacketRefusal, remoteAddress: string | undefined) => {
    metrics.mqttRefused.inc({ reason });
    logs.write(
      'warn',
      `packet_${reason}`,
      { reason, remoteAddress },
      'mqtt connection closed by a transport limit',
    );
  };

  broker.on('connackSent', (packet, client) => {
    if (packet.returnCode === 0) scanners.get(client.conn)?.accept();
  });
  // Aedes' own connect timer (the connectTimeout option) fired: nothing, or too little, arrived.
  broker.on('connectionError', (client, err) => {
    if (err?.message === 'connect did not arrive in time')
      refuse(PACKET_REFUSAL.connectTimeout, (client.conn as Socket).remoteAddress);
  });

  return (conn) => {
    const scanner = new FixedHeaderScanner(limits);
    scanners.set(conn, scanner);
    const read = conn.read;
    conn.read = function guardedRead(this: Socket, size?: number) {
      const chunk = read.call(this, size);
      if (chunk === null || typeof chunk === 'string') return chunk;
      const refusal = scanner.scan(chunk);
      if (refusal === undefined) return chunk;
      refuse(refusal, conn.remoteAddress);
      conn.destroy();
      return null;
    };
    broker.handle(conn);
  };
}
