import type { Aedes, Client, Subscription } from 'aedes';
import type { Device, DeviceStore } from '../device-registry/devices.ts';
import type { Clock } from './clock.ts';
import type { TakenOver } from './cluster/redis-broker.ts';
import { parseDeviceTopic, topics } from './ingest/topics.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';

/**
 * What the rest of the gateway knows about devices' MQTT connections. This file is the one that
 * reaches into Aedes' private parts (its client map, packet ids, the client's parser); an Aedes
 * upgrade is checked here.
 */
export interface DeviceLink {
  /** The device has a live MQTT connection (CONNACK sent, not replaced, not closed). */
  isConnected(deviceId: string): boolean;
  /**
   * The QoS at which the device hears its commands on its live connection: the highest granted
   * to a filter covering every command topic (`…/commands/+` or `…/commands/#`), capped at 1
   * (the gateway publishes commands at QoS 1). null: no such subscription, nothing to send to.
   */
  commandQos(deviceId: string): 0 | 1 | null;
  /**
   * Publishes to the device's live connection at `commandQos` [MQTT-3.8.4-6]. At QoS 1, `onAck`
   * runs once, at the PUBACK that carries this very packet's id on this connection (or on the
   * same persistent session resumed [MQTT-4.4.0-1]); never for another packet's PUBACK. Returns
   * what was sent, or null when the device cannot hear it now.
   */
  send(deviceId: string, topic: string, payload: Buffer, onAck?: () => void): SentPacket | null;
  /** Closes the device's live connection (a disabled device is cut off at once). */
  disconnect(deviceId: string): void;
  /**
   * The device's command channel opened (it subscribed to its commands, or resumed a session that
   * had them) or closed (its live connection ended). Events of a replaced connection are dropped.
   */
  onCommandChannel(fn: (deviceId: string, open: boolean) => void): void;
  /**
   * The PUBACK of a command this node did not send on the session: the session moved here from
   * another node of the cluster, which had sent it, and Aedes sent it again from the shared
   * session store. Named by the acknowledged packet's own topic, as the session store kept it.
   */
  onResumedCommandAck(fn: (deviceId: string, commandId: string) => void): void;
}

export interface SentPacket {
  qos: 0 | 1;
  /** The MQTT packet identifier, at QoS 1 only. */
  messageId?: number;
}

/** PUBACKs awaited on one session, by packet id; the oldest is let go past this many. */
export const MAX_AWAITED_ACKS = 1000;
/** PUBACKs of packets this node did not send, awaiting Aedes' `ack` with the packet; the oldest is let go past this many. */
const MAX_UNMATCHED_ACKS = 64;

/** The parts of an Aedes client used here, some of them private (lib/client.js, lib/qos-packet.js). */
interface AedesClient extends Client {
  subscriptions: Record<string, Subscription>;
  _nextId: number;
  _parser: { on(event: 'packet', fn: (packet: { cmd: string; messageId?: number }) => void): void };
  deliverQoS(packet: object, cb: (err?: Error) => void): void;
}

interface Persistence {
  outgoingEnqueue(sub: { clientId: string }, packet: object): Promise<void>;
}

/** A live connection and the PUBACKs awaited on its session. */
interface Connection {
  client: AedesClient;
  awaited: Map<number, () => void>;
  /** Packet ids of PUBACKs that matched nothing awaited here, until Aedes' `ack` names their packet. */
  unmatched: Set<number>;
}

const COMMAND_WILDCARDS = ['+', '#'];

export function createDeviceLink(opts: {
  broker: Aedes;
  devices: DeviceStore;
  metrics: Metrics;
  log: Logger;
  clock: Clock;
  /** The device connected (CONNACK sent) or its live connection ended; takeovers are no outage. */
  onPresence(device: Device, online: boolean): void;
}): DeviceLink {
  const { broker, devices, metrics, log, clock } = opts;
  const persistence = (broker as unknown as { persistence: Persistence }).persistence;
  const live = new Map<string, Connection>();
  /** Awaited PUBACKs of persistent sessions, kept across their connections [MQTT-4.4.0-1]. */
  const sessions = new Map<string, Map<number, () => void>>();
  const channelListeners: Array<(deviceId: string, open: boolean) => void> = [];
  const resumedAckListeners: Array<(deviceId: string, commandId: string) => void> = [];
  const channel = (deviceId: string, open: boolean) => {
    for (const fn of channelListeners) {
      try {
        fn(deviceId, open);
      } catch (err) {
        log.error({ err, deviceId }, 'command channel listener failed');
      }
    }
  };
  /** Broker event handlers run inside Aedes: an error is logged here, never thrown into it. */
  const guarded =
    <A extends unknown[]>(what: string, fn: (...args: A) => void) =>
    (...args: A) => {
      try {
        fn(...args);
      } catch (err) {
        log.error({ err }, `${what} failed`);
      }
    };
  const current = (client: Client | null | undefined): Connection | undefined => {
    const conn = client ? live.get(client.id) : undefined;
    return conn && conn.client === client ? conn : undefined;
  };

  const publishStatus = (id: string, online: boolean) =>
    broker.publish(
      {
        cmd: 'publish',
        topic: topics.status(id),
        payload: Buffer.from(JSON.stringify({ online, at: new Date(clock.now()).toISOString() })),
        qos: 1,
        retain: true,
        dup: false,
      },
      (err?: Error) => err && log.error({ err, deviceId: id }, 'status publish failed'),
    );

  const commandQos = (conn: Connection): 0 | 1 | null => {
    const own = `devices/${conn.client.id}/commands/`;
    let qos: 0 | 1 | null = null;
    for (const w of COMMAND_WILDCARDS) {
      const sub = conn.client.subscriptions[own + w];
      if (sub) qos = Math.max(qos ?? 0, Math.min(sub.qos, 1)) as 0 | 1;
    }
    return qos;
  };

  broker.on(
    'clientReady',
    guarded('connection start', (c: Client) => {
      const client = c as AedesClient;
      const device = devices.get(client.id);
      if (!device) return;
      let awaited: Map<number, () => void>;
      if (client.clean) {
        sessions.delete(client.id);
        awaited = new Map();
      } else {
        awaited = sessions.get(client.id) ?? new Map();
        sessions.set(client.id, awaited);
      }
      const conn: Connection = { client, awaited, unmatched: new Set() };
      live.set(client.id, conn);
      // The PUBACK itself, as parsed from this connection: the packet id names the message.
      client._parser.on('packet', (packet) => {
        if (packet.cmd !== 'puback' || packet.messageId === undefined || live.get(client.id) !== conn) return;
        const onAck = conn.awaited.get(packet.messageId);
        if (!onAck) {
          // Perhaps sent by the node this session came from: Aedes' `ack` tells (below).
          if (client.clean) return;
          if (conn.unmatched.size >= MAX_UNMATCHED_ACKS) conn.unmatched.delete(first(conn.unmatched));
          conn.unmatched.add(packet.messageId);
          return;
        }
        conn.awaited.delete(packet.messageId);
        try {
          onAck();
        } catch (err) {
          log.error({ err, deviceId: client.id }, 'PUBACK handler failed');
        }
      });
      metrics.connected.set(live.size);
      publishStatus(device.id, true);
      opts.onPresence(device, true);
      // A resumed session has its subscriptions back without a SUBSCRIBE [MQTT-3.2.2-2].
      if (commandQos(conn) !== null) channel(device.id, true);
    }),
  );

  // After the PUBACK above (Aedes clears the packet from the session store first, asynchronously),
  // with the packet the session store kept: its topic names the command.
  broker.on(
    'ack',
    guarded(
      'resumed acknowledgement',
      (packet: { topic?: string; messageId?: number } | undefined, c: Client) => {
        const conn = current(c);
        if (!conn || packet?.messageId === undefined || !conn.unmatched.delete(packet.messageId)) return;
        const parsed = typeof packet.topic === 'string' ? parseDeviceTopic(packet.topic) : null;
        if (parsed?.kind !== 'command' || parsed.deviceId !== conn.client.id || !parsed.commandId) return;
        for (const fn of resumedAckListeners) fn(parsed.deviceId, parsed.commandId);
      },
    ),
  );

  broker.on(
    'subscribe',
    guarded('subscription', (subs: Subscription[], client: Client) => {
      const conn = current(client);
      const own = conn && `devices/${conn.client.id}/commands/`;
      if (
        conn &&
        subs.some((s) => (s.qos as number) !== 128 && COMMAND_WILDCARDS.some((w) => s.topic === own + w))
      )
        channel(conn.client.id, true);
    }),
  );

  broker.on(
    'clientDisconnect',
    guarded('connection end', (client: Client) => {
      // A late event of a connection already replaced by a new one of the same device [MQTT-3.1.4-2].
      if (!current(client)) return;
      live.delete(client.id);
      metrics.connected.set(live.size);
      channel(client.id, false);
      // Its session moved to another node (broker.ts, markTakeovers): the device is still online there.
      if ((client as TakenOver).takenOver) return;
      const device = devices.get(client.id);
      if (!device) return;
      publishStatus(device.id, false);
      opts.onPresence(device, false);
    }),
  );

  /** The next packet id of this client not awaiting a PUBACK, taken as QoSPacket would take it. */
  const reserveId = (conn: Connection): number | null => {
    const client = conn.client;
    for (let i = 0; i < 65535; i++) {
      const id = client._nextId;
      client._nextId = id >= 65535 ? 1 : id + 1;
      if (!conn.awaited.has(id)) return id;
    }
    return null;
  };

  return {
    isConnected: (deviceId) => {
      const conn = live.get(deviceId);
      return !!conn && !conn.client.closed;
    },
    commandQos(deviceId) {
      const conn = live.get(deviceId);
      return conn && !conn.client.closed ? commandQos(conn) : null;
    },
    send(deviceId, topic, payload, onAck) {
      const conn = live.get(deviceId);
      const qos = conn && !conn.client.closed ? commandQos(conn) : null;
      if (!conn || qos === null) return null;
      const client = conn.client;
      const done = (err?: Error) => err && log.debug({ deviceId, err: err.message }, 'send failed');
      if (qos === 0) {
        client.publish({ cmd: 'publish', topic, payload, qos: 0, retain: false, dup: false }, done);
        return { qos };
      }
      const messageId = reserveId(conn);
      if (messageId === null) return null;
      if (conn.awaited.size >= MAX_AWAITED_ACKS) {
        conn.awaited.delete(first(conn.awaited.keys()));
      }
      if (onAck) conn.awaited.set(messageId, onAck);
      // Client.publish would wrap the packet and let QoSPacket take the id later; handing
      // deliverQoS a packet that has one keeps it (aedes lib/qos-packet.js), so we know it now.
      const packet = {
        cmd: 'publish',
        topic,
        payload,
        qos: 1,
        retain: false,
        dup: false,
        messageId,
        brokerId: broker.id,
        brokerCounter: ++(broker as unknown as { counter: number }).counter,
      };
      if (client.clean) client.deliverQoS(packet, done);
      else
        persistence
          .outgoingEnqueue({ clientId: client.id }, packet)
          .then(() => client.deliverQoS(packet, done), done);
      return { qos, messageId };
    },
    disconnect(deviceId) {
      live.get(deviceId)?.client.close();
    },
    onCommandChannel(fn) {
      channelListeners.push(fn);
    },
    onResumedCommandAck(fn) {
      resumedAckListeners.push(fn);
    },
  };
}

/** The first of a non-empty collection: the oldest entry of a Map's keys or of a Set. */
const first = (xs: Iterable<number>): number => xs[Symbol.iterator]().next().value as number;
