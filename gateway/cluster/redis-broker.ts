import { createRequire } from 'node:module';
import type { Aedes, Client } from 'aedes';
import { Redis } from 'ioredis';

const require = createRequire(import.meta.url);
// CommonJS modules; the prefixed emitter is not in mqemitter-redis' type declarations.
const { MQEmitterRedisPrefix } = require('mqemitter-redis') as {
  MQEmitterRedisPrefix: new (prefix: string, opts: Record<string, unknown>) => RedisEmitter;
};
const redisPersistence = require('aedes-persistence-redis') as (opts: { conn: Redis }) => unknown;

interface RedisEmitter {
  close(cb: () => void): void;
  state: { on(event: 'error', fn: (err: Error) => void): void };
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
  // The emitter's channels are server-wide: the prefix ends in '/' so it stays one topic level
  // of its own and `#`, `+` and `$SYS` keep their meaning below it.
  const mq = new MQEmitterRedisPrefix(`${opts.prefix}mqtt/`, {
    connectionString: opts.url,
    matchEmptyLevels: true, // [MQTT-4.7.1-3], as Aedes' default emitter
  });
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
