import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { createServer, type Server } from 'node:net';
import { Aedes, type Client } from 'aedes';
import { Redis } from 'ioredis';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { markTakeovers, redisBrokerClustering, type TakenOver } from '../gateway/cluster/redis-broker.ts';
import { createTestRedis } from './helpers/redis.ts';

/**
 * Aedes on Redis as the gateway builds it (gateway/cluster/redis-broker.ts): two brokers of one
 * cluster, each on its own port, sharing routing, sessions and retained messages through Redis.
 */
interface Node {
  broker: Aedes;
  server: Server;
  url: string;
  disconnected: TakenOver[];
}

async function startNode(url: string, prefix: string, nodeId: string): Promise<Node> {
  const clustering = redisBrokerClustering({ url, prefix, nodeId, onError: () => {} });
  const broker = new Aedes({ id: clustering.id, mq: clustering.mq, persistence: clustering.persistence });
  (broker as unknown as { counter: number }).counter = clustering.counterStart;
  markTakeovers(broker);
  await broker.listen();
  const disconnected: TakenOver[] = [];
  broker.on('clientDisconnect', (c: Client) => disconnected.push(c as TakenOver));
  const server = createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { broker, server, url: `mqtt://127.0.0.1:${port}`, disconnected };
}

async function stopNode(node: Node): Promise<void> {
  await new Promise<void>((resolve) => node.broker.close(() => resolve()));
  await new Promise<void>((resolve) => node.server.close(() => resolve()));
  await (node.broker as unknown as { persistence: { destroy(): Promise<void> } }).persistence
    .destroy()
    .catch(() => {});
}

describe('the broker across nodes on Redis', () => {
  const redis = createTestRedis('broker');
  // Pub/sub channels are server-wide: ids of this run only.
  const run = randomBytes(3).toString('hex');
  let a: Node;
  let b: Node;
  const clients: MqttClient[] = [];
  const connect = async (node: Node, clientId: string, opts: IClientOptions = {}) => {
    const c = await mqtt.connectAsync(node.url, { clientId, reconnectPeriod: 0, ...opts });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    a = await startNode(redis.url, redis.prefix, `a-${run}`);
    b = await startNode(redis.url, redis.prefix, `b-${run}`);
  });
  afterAll(async () => {
    for (const c of clients) c.end(true);
    if (a) await stopNode(a);
    if (b) await stopNode(b);
    await redis.cleanup();
  });

  it('routes a publish on node A to a subscriber on node B', async () => {
    const topic = `devices/x-${run}/commands/c1`;
    const sub = await connect(b, `sub-${run}`);
    await sub.subscribeAsync(topic, { qos: 1 });
    const heard = new Promise<string>((resolve) => sub.on('message', (_t, p) => resolve(p.toString())));
    const pub = await connect(a, `pub-${run}`);
    await pub.publishAsync(topic, 'hello from A', { qos: 1 });
    expect(await heard).toBe('hello from A');
  });

  it('drops junk published on the cluster channel and keeps routing', async () => {
    const attacker = new Redis(redis.url);
    const channel = `${redis.prefix}mqtt`;
    const msgpack = createRequire(createRequire(import.meta.url).resolve('mqemitter-redis'))('msgpack-lite');
    for (const junk of [
      Buffer.from('not msgpack at all'),
      Buffer.from([0xc1]), // a byte msgpack never uses
      msgpack.encode({ id: 'x' }), // no packet
      msgpack.encode({ id: 'y', msg: { topic: 42 } }),
      msgpack.encode(null),
      Buffer.alloc(2 * 1024 ** 2, 0x92), // past the size bound
    ])
      await attacker.publish(channel, junk);
    attacker.disconnect();
    const topic = `devices/x-${run}/commands/after-junk`;
    const sub = await connect(b, `sub-junk-${run}`);
    await sub.subscribeAsync(topic, { qos: 1 });
    const heard = new Promise<string>((resolve) => sub.on('message', (_t, p) => resolve(p.toString())));
    const pub = await connect(a, `pub-junk-${run}`);
    await pub.publishAsync(topic, 'still routed', { qos: 1 });
    expect(await heard).toBe('still routed');
  });

  it('moves a session to the node its client reconnects to; the old node closes its connection', async () => {
    const id = `dev-${run}-takeover`;
    const first = await connect(a, id);
    const closed = new Promise<void>((resolve) => first.once('close', () => resolve()));
    const second = await connect(b, id);
    await closed;
    expect(second.connected).toBe(true);
    await expect.poll(() => a.disconnected.find((c) => c.id === id)?.takenOver).toBe(true);
    // Still served on B: a message to it arrives there.
    await second.subscribeAsync(`devices/${id}/commands/+`, { qos: 1 });
    const heard = new Promise<string>((resolve) => second.on('message', (_t, p) => resolve(p.toString())));
    a.broker.publish(
      {
        cmd: 'publish',
        topic: `devices/${id}/commands/c2`,
        payload: Buffer.from('on B'),
        qos: 1,
        retain: false,
        dup: false,
      },
      () => {},
    );
    expect(await heard).toBe('on B');
  });

  it('resumes a persistent session on the other node, with its subscription and a queued QoS 1 message', async () => {
    const id = `dev-${run}-persistent`;
    const topic = `devices/${id}/commands/+`;
    const first = await connect(a, id, { clean: false });
    await first.subscribeAsync(topic, { qos: 1 });
    await first.endAsync();
    // Published on A while the device is offline: queued in Redis for its session.
    const pub = await connect(a, `pub2-${run}`);
    await pub.publishAsync(`devices/${id}/commands/c3`, 'queued while offline', { qos: 1 });
    // Its live copy reaches every node through Redis too; one still in flight when the session is
    // restored would be delivered twice (Aedes dedupes live deliveries, not the queue: QoS 1 is at
    // least once). Let it land first, so that a duplicate here is a bug.
    await new Promise((r) => setTimeout(r, 300));
    const messages: string[] = [];
    const second = mqtt.connect(b.url, { clientId: id, clean: false, reconnectPeriod: 0 });
    clients.push(second);
    second.on('message', (_t, p) => messages.push(p.toString()));
    const connack = await new Promise<{ sessionPresent: boolean }>((resolve) =>
      second.once('connect', resolve),
    );
    expect(connack.sessionPresent).toBe(true);
    await expect.poll(() => messages).toEqual(['queued while offline']);
    // The subscription came back with the session: a new message reaches it without a SUBSCRIBE.
    await pub.publishAsync(`devices/${id}/commands/c4`, 'after resume', { qos: 1 });
    await expect.poll(() => messages).toEqual(['queued while offline', 'after resume']);
  });

  it('delivers a packet enqueued for a session as the device link does, on the node it resumes on', async () => {
    const id = `dev-${run}-link`;
    const first = await connect(a, id, { clean: false });
    await first.subscribeAsync(`devices/${id}/commands/+`, { qos: 1 });
    await first.endAsync();
    // gateway/device-link.ts: its own packet id and broker counter, outgoingEnqueue, then deliver.
    const persistence = (
      a.broker as unknown as {
        persistence: { outgoingEnqueue(sub: { clientId: string }, packet: object): Promise<void> };
      }
    ).persistence;
    await persistence.outgoingEnqueue(
      { clientId: id },
      {
        cmd: 'publish',
        topic: `devices/${id}/commands/c5`,
        payload: Buffer.from('enqueued by the link'),
        qos: 1,
        retain: false,
        dup: false,
        messageId: 42,
        brokerId: a.broker.id,
        brokerCounter: ++(a.broker as unknown as { counter: number }).counter,
      },
    );
    const messages: string[] = [];
    const second = mqtt.connect(b.url, { clientId: id, clean: false, reconnectPeriod: 0 });
    clients.push(second);
    second.on('message', (_t, p) => messages.push(p.toString()));
    await expect.poll(() => messages).toEqual(['enqueued by the link']);
    // Acknowledged on B: gone from the session, not delivered again on the next resume.
    await new Promise((r) => setTimeout(r, 200));
    await second.endAsync();
    const again: string[] = [];
    const third = mqtt.connect(a.url, { clientId: id, clean: false, reconnectPeriod: 0 });
    clients.push(third);
    third.on('message', (_t, p) => again.push(p.toString()));
    await new Promise((resolve) => third.once('connect', resolve));
    await new Promise((r) => setTimeout(r, 500));
    expect(again).toEqual([]);
  });

  it('keeps the retained status topic cluster-wide', async () => {
    const topic = `devices/dev-${run}-status/status`;
    await new Promise<void>((resolve, reject) =>
      a.broker.publish(
        { cmd: 'publish', topic, payload: Buffer.from('{"online":true}'), qos: 1, retain: true, dup: false },
        (err?: Error) => (err ? reject(err) : resolve()),
      ),
    );
    const viewer = await connect(b, `viewer-${run}`);
    const heard = new Promise<{ payload: string; retain: boolean }>((resolve) =>
      viewer.on('message', (_t, p, packet) => resolve({ payload: p.toString(), retain: packet.retain })),
    );
    await viewer.subscribeAsync(topic, { qos: 1 });
    expect(await heard).toEqual({ payload: '{"online":true}', retain: true });
  });

  it('keeps its keys under the cluster prefix', async () => {
    const { Redis } = await import('ioredis');
    const r = new Redis(redis.url);
    try {
      const ours = await r.keys(`${redis.prefix}*`);
      expect(ours.length).toBeGreaterThan(0);
      expect(ours).toContain(`${redis.prefix}retained`);
      expect(await r.exists('retained')).toBe(0);
      // One channel for the whole cluster, however many clients subscribed to whatever (a Redis
      // pattern per subscription would make every PUBLISH scan them all).
      expect(await r.pubsub('CHANNELS', `${redis.prefix}*`)).toEqual([`${redis.prefix}mqtt`]);
      expect(Number(await r.pubsub('NUMSUB', `${redis.prefix}mqtt`).then((x) => x[1]))).toBe(2);
    } finally {
      r.disconnect();
    }
  });
});
