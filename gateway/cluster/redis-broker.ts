import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Aedes, Client } from 'aedes';
import { Redis } from 'ioredis';
import { QUIT_WITHIN_MS } from './redis-quit.ts';

const require = createRequire(import.meta.url);
// CommonJS modules without the parts used here in their type declarations.
const MQEmitterRedis = require('mqemitter-redis') as new (opts: Record<string, unknown>) => RedisEmitter;
const redisPersistence = require('aedes-persistence-redis') as (opts: { conn: Redis }) => unknown;
// The encoding mqemitter-redis decodes with, from its own dependencies.
const msgpack = createRequire(require.resolve('mqemitter-redis'))('msgpack-lite') as {
  encode(value: unknown): Buffer;
  decode(buffer: Buffer): unknown;
};

/**
 * Largest message taken from the cluster's channel. What goes through it is small (connect
 * announcements, retained status, subscription changes); uplinks and commands never do.
 */
const MAX_CHANNEL_MESSAGE_BYTES = 1024 ** 2;

type Listener = (packet: { topic: string }, done: () => void) => void;

/** mqemitter-redis' instance, with the original MQEmitter methods it keeps as `_on`, `_removeListener`. */
interface RedisEmitter {
  subConn: Redis;
  pubConn: Redis;
  closed?: boolean;
  _on(topic: string, fn: Listener): void;
  _emit(packet: { topic: string }, done?: () => void): void;
  _removeListener(topic: string, fn: Listener): void;
  on(topic: string, fn: Listener, done?: () => void): RedisEmitter;
  removeListener(topic: string, fn: Listener, done?: () => void): RedisEmitter;
  emit(packet: { topic: string }, done?: (err?: Error) => void): void;
  close(cb: () => void): void;
  state: { on(event: 'error', fn: (err: Error) => void): void };
}

/**
 * mqemitter-redis on one Redis channel per cluster instead of one (P)SUBSCRIBE per MQTT
 * subscription. Redis matches every PUBLISH against every subscribed pattern (PUBLISH is
 * O(clients + patterns)); each device's `devices/<id>/commands/+` would be a pattern, and at
 * 10,000 of them a PUBLISH took 13 ms here: a city's millions would stall every node. On one
 * channel each node receives every message and matches it locally with mqemitter's own trie, as
 * it does for its local subscribers. The messages are few: a connect's `$SYS/<node>/new/clients`
 * and retained status, heartbeats, persistent sessions' subscription changes; readings never go
 * through the emitter (broker.ts) and commands are written to the device's connection by the node
 * holding it (device-link.ts).
 */
function oneChannelEmitter(url: string, channel: string): RedisEmitter {
  const mq = new MQEmitterRedis({ connectionString: url, matchEmptyLevels: true }); // [MQTT-4.7.1-3]
  const subscribed = mq.subConn.subscribe(channel).then(
    () => {},
    () => {}, // ioredis subscribes again on its reconnect; the error is on mq.state
  );
  // The library decodes whatever arrives and hands it on unchecked, inside ioredis' socket handler:
  // junk on the channel threw there as an uncaught exception and stopped every node listening.
  // Every message is the envelope `emit` below writes; anything else is dropped. One channel, no
  // patterns: a message arrives once, so the library's duplicate filter has nothing to do.
  mq.subConn.removeAllListeners('messageBuffer');
  mq.subConn.removeAllListeners('pmessageBuffer');
  mq.subConn.on('messageBuffer', (_channel: Buffer, payload: Buffer) => {
    const packet = decodeEnvelope(payload);
    if (packet) mq._emit(packet);
  });
  mq.on = function on(topic, fn, done) {
    this._on(topic, fn);
    if (done) void subscribed.then(() => setImmediate(done));
    return this;
  };
  mq.removeListener = function removeListener(topic, fn, done) {
    this._removeListener(topic, fn);
    if (done) setImmediate(done);
    return this;
  };
  // Aedes waits for its emitter's close; mqemitter-redis' waits for both connections to end,
  // which a connection waiting to reconnect to an unreachable Redis never does.
  const close = mq.close.bind(mq);
  mq.close = (cb) => {
    let called = false;
    const done = () => {
      if (called) return;
      called = true;
      cb();
    };
    close(done);
    setTimeout(() => {
      mq.subConn.disconnect();
      mq.pubConn.disconnect();
      done();
    }, QUIT_WITHIN_MS).unref();
  };
  mq.emit = function emit(packet, done = () => {}) {
    if (this.closed) return done(new Error('mqemitter-redis is closed'));
    // The envelope mqemitter-redis' receiving side decodes: an id (its duplicate filter) and the packet.
    this.pubConn.publish(channel, msgpack.encode({ id: randomUUID(), msg: packet })).then(() => done(), done);
  };
  return mq;
}

/** The packet of an envelope `{id, msg: {topic, …}}` from the channel, or undefined for anything else. */
function decodeEnvelope(payload: Buffer): { topic: string } | undefined {
  if (payload.length > MAX_CHANNEL_MESSAGE_BYTES) return undefined;
  let envelope: unknown;
  try {
    envelope = msgpack.decode(payload);
  } catch {
    return undefined;
  }
  const msg = (envelope as { msg?: unknown } | null)?.msg as { topic?: unknown } | null | undefined;
  return msg && typeof msg === 'object' && typeof msg.topic === 'string' && msg.topic.length <= 65_535
    ? (msg as { topic: string })
    : undefined;
}

/** What Aedes takes to route and keep sessions across the nodes of a cluster (issue 11). */
export interface BrokerClustering {
  /** The broker id: `$SYS/<id>/…` topics, wills and persisted packet keys carry it. */
  id: string;
  mq: unknown;
  persistence: unknown;
  /**
   * First value of the broker's packet counter. Persisted packets are keyed
   * `packet:<brokerId>:<counter>`; a node restarted under the same NODE_ID would count from 0
   * again and overwrite packets still queued for offline sessions, so it starts from the clock.
   */
  counterStart: number;
}

/**
 * Aedes on Redis, the way its authors document it: mqemitter-redis carries every publish to the
 * other nodes, aedes-persistence-redis keeps sessions, subscriptions, queued QoS 1 packets and
 * retained messages. Both live under the cluster's prefix, so clusters (and test runs) sharing a
 * Redis never see each other's keys or MQTT traffic.
 */
export function redisBrokerClustering(opts: {
  url: string;
  prefix: string;
  nodeId: string;
  onError(err: Error, where: string): void;
}): BrokerClustering {
  // Channels are server-wide: the cluster's prefix keeps clusters sharing a Redis apart.
  const mq = oneChannelEmitter(opts.url, `${opts.prefix}mqtt`);
  mq.state.on('error', (err) => opts.onError(err, 'emitter'));
  // keyPrefix applies to every key the persistence names, including the packet keys it keeps in
  // its lists (stored bare, prefixed again on each read); it only scans a hash's fields.
  const conn = new Redis(opts.url, { keyPrefix: opts.prefix });
  conn.on('error', (err) => opts.onError(err, 'persistence'));
  return {
    id: opts.nodeId,
    mq,
    persistence: redisPersistence({ conn }),
    counterStart: Date.now() * 1000,
  };
}

/**
 * A client that connected to another node with the same id is closed here by Aedes
 * (`$SYS/<node>/new/clients`, [MQTT-3.1.4-2] across nodes). This listener, registered before
 * Aedes' own, marks it first, so the device link knows the device has not gone offline.
 */
export function markTakeovers(broker: Aedes): void {
  const { mq, clients } = broker as unknown as {
    mq: {
      on(topic: string, fn: (packet: { topic: string; payload: Buffer }, done: () => void) => void): void;
    };
    clients: Record<string, Client>;
  };
  mq.on('$SYS/+/new/clients', (packet: { topic: string; payload: Buffer }, done: () => void) => {
    const client = clients[packet.payload.toString()];
    if (client && packet.topic.split('/')[1] !== broker.id) (client as TakenOver).takenOver = true;
    done();
  });
}

/** A client closed because its session moved to another node of the cluster. */
export type TakenOver = Client & { takenOver?: boolean };
