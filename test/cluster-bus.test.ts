import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisClusterBus } from '../gateway/cluster/redis-bus.ts';
import { createLogger, type Logger } from '../gateway/logger.ts';
import { createTestRedis } from './helpers/redis.ts';
import { startTcpProxy } from './helpers/tcp-proxy.ts';

/** A logger that keeps what it was told, to see a failing listener reported. */
function recordingLogger(): { log: Logger; lines: () => string[] } {
  const lines: string[] = [];
  const base = createLogger('silent');
  const record = (level: string) => (obj: unknown, msg?: string) =>
    lines.push(`${level} ${typeof obj === 'string' ? obj : (msg ?? '')} ${JSON.stringify(obj)}`);
  const log = new Proxy(base, {
    get(target, prop) {
      if (prop === 'child') return () => log;
      if (prop === 'error' || prop === 'warn') return record(prop);
      return Reflect.get(target, prop);
    },
  });
  return { log, lines: () => lines };
}

describe('the Redis cluster bus', () => {
  const redis = createTestRedis('bus');
  const a = recordingLogger();
  const b = recordingLogger();
  let busA: RedisClusterBus;
  let busB: RedisClusterBus;
  let raw: Redis;
  const heardByA: unknown[] = [];
  const heardByB: Array<{ message: unknown; from: string }> = [];

  beforeAll(async () => {
    busA = new RedisClusterBus({ url: redis.url, prefix: redis.prefix, nodeId: 'node-a', log: a.log });
    busB = new RedisClusterBus({ url: redis.url, prefix: redis.prefix, nodeId: 'node-b', log: b.log });
    busA.subscribe('device.changed', (m) => heardByA.push(m));
    busB.subscribe('device.changed', (message, from) => heardByB.push({ message, from }));
    busB.subscribe('commands.queued', () => {
      throw new Error('listener broke');
    });
    await Promise.all([busA.ready(), busB.ready()]);
    raw = new Redis(redis.url);
  });
  afterAll(async () => {
    await busA?.close();
    await busB?.close();
    raw?.disconnect();
    await redis.cleanup();
  });

  it('delivers a message to the other node, not back to its sender', async () => {
    busA.publish('device.changed', { id: 'lamp-1' });
    await expect.poll(() => heardByB).toEqual([{ message: { id: 'lamp-1' }, from: 'node-a' }]);
    // A message B sends after A's reaches A; by then A's own would have arrived too.
    busB.publish('device.changed', { id: 'lamp-2' });
    await expect.poll(() => heardByA).toEqual([{ id: 'lamp-2' }]);
    expect(heardByB).toHaveLength(1);
  });

  it('ignores garbage on its channel: not JSON, wrong shape, missing fields, too large', async () => {
    const channel = `${redis.prefix}bus:device.changed`;
    const before = heardByB.length;
    for (const junk of [
      'not json',
      '42',
      'null',
      JSON.stringify({ from: 'node-x' }),
      JSON.stringify({ from: 7, message: { id: 'x' } }),
      JSON.stringify({ from: 'node-x', message: { id: 12 } }),
      JSON.stringify({ from: 'node-x', message: { id: 'x', nested: { deep: true } } }),
      JSON.stringify({ from: 'node-x', message: { id: 'x'.repeat(20_000) } }),
    ])
      await raw.publish(channel, junk);
    busA.publish('device.changed', { id: 'after-junk' });
    await expect.poll(() => heardByB.length).toBe(before + 1);
    expect(heardByB.at(-1)).toEqual({ message: { id: 'after-junk' }, from: 'node-a' });
    expect(b.lines().filter((l) => l.includes('malformed'))).toHaveLength(8);
  });

  it('keeps delivering after a listener throws, and logs the failure', async () => {
    busA.publish('commands.queued', { deviceId: 'lamp-3' });
    busA.publish('device.changed', { id: 'lamp-4' });
    await expect.poll(() => heardByB.at(-1)).toEqual({ message: { id: 'lamp-4' }, from: 'node-a' });
    expect(b.lines().some((l) => l.includes('cluster bus listener failed'))).toBe(true);
  });

  it('keeps its channels to its own prefix', async () => {
    const other = new RedisClusterBus({
      url: redis.url,
      prefix: `${redis.prefix}other:`,
      nodeId: 'node-c',
      log: createLogger('silent'),
    });
    const heard: unknown[] = [];
    other.subscribe('device.changed', (m) => heard.push(m));
    await other.ready();
    busA.publish('device.changed', { id: 'lamp-5' });
    await expect.poll(() => heardByB.at(-1)).toEqual({ message: { id: 'lamp-5' }, from: 'node-a' });
    expect(heard).toEqual([]);
    await other.close();
  });

  it('hears the other nodes again after its Redis connection was lost', async () => {
    const target = new URL(redis.url);
    const relay = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    const bus = new RedisClusterBus({
      url: `redis://127.0.0.1:${relay.port}`,
      prefix: redis.prefix,
      nodeId: 'node-e',
      log: createLogger('silent'),
    });
    const heard: unknown[] = [];
    bus.subscribe('alarm.changed', (m) => heard.push(m));
    await bus.ready();
    busA.publish('alarm.changed', { id: 'before' });
    await expect.poll(() => heard).toEqual([{ id: 'before' }]);
    await relay.cut();
    // Sent while it is away: lost (pub/sub is at most once), and publishing does not throw.
    expect(() => bus.publish('alarm.changed', { id: 'while away' })).not.toThrow();
    await relay.restore();
    await expect
      .poll(
        () => {
          busA.publish('alarm.changed', { id: 'after' });
          return heard.some((m) => (m as { id: string }).id === 'after');
        },
        { timeout: 15_000, interval: 500 },
      )
      .toBe(true);
    await bus.close();
    await relay.close();
  });

  it('never throws into a caller, even closed', async () => {
    const bus = new RedisClusterBus({
      url: redis.url,
      prefix: redis.prefix,
      nodeId: 'node-d',
      log: createLogger('silent'),
    });
    await bus.close();
    expect(() => bus.publish('device.changed', { id: 'x' })).not.toThrow();
  });
});
