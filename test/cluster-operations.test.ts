import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterSettings } from './helpers/cluster.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { createTestDatabase, type TestDatabase } from './helpers/pg.ts';
import { createTestRedis } from './helpers/redis.ts';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.ts';

const ADMIN = 'cluster-ops-admin-token-0123456789';

describe('GET /api/cluster, /readyz and /metrics of cluster nodes', () => {
  const redis = createTestRedis('ops');
  let db: TestDatabase;
  let proxy: TcpProxy;
  let pgProxy: TcpProxy;
  let a: TestGateway;
  let b: TestGateway | undefined;
  let single: TestGateway;

  const node = (nodeId: string, redisUrl: string, databaseUrl = db.url) =>
    startTestGateway({
      config: clusterSettings({ url: databaseUrl }, { url: redisUrl, prefix: redis.prefix }, nodeId, ADMIN),
    });

  beforeAll(async () => {
    db = await createTestDatabase('cluster_ops');
    const target = new URL(redis.url);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    const pgUrl = new URL(db.url);
    pgProxy = await startTcpProxy({ host: pgUrl.hostname, port: Number(pgUrl.port || 5432) });
    pgUrl.host = `127.0.0.1:${pgProxy.port}`;
    // Node A reaches Redis and PostgreSQL through relays the test can cut; node B directly.
    a = await node('node-a', `redis://127.0.0.1:${proxy.port}`, pgUrl.toString());
    b = await node('node-b', redis.url);
    single = await startTestGateway();
  });
  afterAll(async () => {
    await proxy?.restore().catch(() => {});
    await pgProxy?.restore().catch(() => {});
    await a?.stop();
    await b?.stop();
    await single?.stop();
    await proxy?.close();
    await pgProxy?.close();
    await db?.drop();
    await redis.cleanup();
  });

  it('lists the nodes with their heartbeat, connected devices, and which one answers', async () => {
    const res = await a.api('GET', '/api/cluster');
    expect(res.status).toBe(200);
    expect(res.body.mode).toBe('cluster');
    expect(res.body.nodeId).toBe('node-a');
    expect(res.body.alive).toBe(2);
    expect(
      res.body.nodes.map((n: { nodeId: string; self: boolean; alive: boolean }) => [
        n.nodeId,
        n.self,
        n.alive,
      ]),
    ).toEqual([
      ['node-a', true, true],
      ['node-b', false, true],
    ]);
    const nodeB = res.body.nodes[1];
    expect(nodeB.httpUrl).toBe(b!.httpUrl);
    expect(nodeB.mqttPort).toBe(b!.gateway.mqttPort);
    expect(nodeB.connectedDevices).toBe(0);
    expect(Date.now() - Date.parse(nodeB.heartbeatAt)).toBeLessThan(10_000);
  });

  it('asks for a viewer token', async () => {
    expect((await a.api('GET', '/api/cluster', undefined, 'not-a-token')).status).toBe(401);
  });

  it('shows a node whose heartbeat stopped as not alive', async () => {
    const r = new Redis(redis.url);
    const old = Date.now() - 60_000;
    await r.hset(
      `${redis.prefix}nodes`,
      'node-gone',
      JSON.stringify({
        nodeId: 'node-gone',
        httpUrl: 'http://x:1',
        mqttPort: 1,
        connectedDevices: 3,
        startedAt: old,
        heartbeatAt: old,
      }),
    );
    r.disconnect();
    const res = await b!.api('GET', '/api/cluster');
    expect(res.body.alive).toBe(2);
    expect(res.body.nodes.find((n: { nodeId: string }) => n.nodeId === 'node-gone')).toMatchObject({
      alive: false,
      connectedDevices: 3,
    });
  });

  it('ignores forged entries in the nodes hash: bad times, future heartbeats, junk, oversized', async () => {
    const r = new Redis(redis.url);
    const now = Date.now();
    const beat = (over: Record<string, unknown>) =>
      JSON.stringify({
        httpUrl: 'http://x:1',
        mqttPort: 1,
        connectedDevices: 1,
        startedAt: now,
        heartbeatAt: now,
        ...over,
      });
    await r.hset(`${redis.prefix}nodes`, {
      'forged-infinite': beat({}).replace(/"heartbeatAt":\d+/, '"heartbeatAt":1e400'),
      'forged-huge': beat({ heartbeatAt: 1e300, startedAt: 1e300 }),
      'forged-future': beat({ heartbeatAt: now + 10 * 86_400_000 }),
      'forged-junk': '{not json',
      'forged-null': 'null',
      'forged-big': beat({ httpUrl: 'x'.repeat(10_000) }),
      ['x'.repeat(500)]: beat({}),
    });
    r.disconnect();
    const res = await b!.api('GET', '/api/cluster');
    expect(res.status).toBe(200);
    expect(res.body.alive).toBe(2);
    expect(
      res.body.nodes.map((n: { nodeId: string }) => n.nodeId).filter((id: string) => !id.startsWith('node-')),
    ).toEqual([]);
  });

  it('labels its metrics with its node and counts the nodes alive', async () => {
    const text = await fetch(`${a.httpUrl}/metrics`).then((r) => r.text());
    expect(text).toMatch(/^citygate_cluster_nodes_alive\{node="node-a"\} 2$/m);
    expect(text).toMatch(/^citygate_mqtt_connected_devices\{node="node-a"\} 0$/m);
  });

  it('turns not ready with a redis: reason while its Redis is unreachable, and ready again after', async () => {
    expect((await fetch(`${a.httpUrl}/readyz`)).status).toBe(200);
    await proxy.cut();
    await expect
      .poll(async () => {
        const res = await fetch(`${a.httpUrl}/readyz`);
        return { status: res.status, reasons: ((await res.json()) as { reasons: string[] }).reasons };
      })
      .toMatchObject({ status: 503, reasons: [expect.stringMatching(/^redis: /)] });
    const cluster = await a.api('GET', '/api/cluster');
    expect([cluster.status, cluster.body.code]).toEqual([503, 'GW_ERR_CLUSTER_UNAVAILABLE']);
    // Node B, on the same Redis directly, stays ready: the outage is A's alone.
    expect((await fetch(`${b!.httpUrl}/readyz`)).status).toBe(200);
    await proxy.restore();
    await expect.poll(async () => (await fetch(`${a.httpUrl}/readyz`)).status, { timeout: 15_000 }).toBe(200);
  });

  it('turns not ready with a postgres: reason while its PostgreSQL is unreachable, and ready again after', async () => {
    await pgProxy.cut();
    await expect
      .poll(async () => {
        const res = await fetch(`${a.httpUrl}/readyz`);
        return { status: res.status, reasons: ((await res.json()) as { reasons: string[] }).reasons };
      })
      .toMatchObject({ status: 503, reasons: [expect.stringMatching(/^postgres: /)] });
    await pgProxy.restore();
    await expect.poll(async () => (await fetch(`${a.httpUrl}/readyz`)).status, { timeout: 15_000 }).toBe(200);
  });

  it('leaves the list when it stops', async () => {
    await b!.stop();
    b = undefined;
    const res = await a.api('GET', '/api/cluster');
    expect(res.body.nodes.map((n: { nodeId: string }) => n.nodeId)).toEqual(['node-a', 'node-gone']);
  });

  it('stops within seconds while its Redis is unreachable', async () => {
    const target = new URL(redis.url);
    const relay = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    const c = await node('node-c', `redis://127.0.0.1:${relay.port}`);
    await relay.cut();
    const started = Date.now();
    await c.stop();
    expect(Date.now() - started).toBeLessThan(5000);
    await relay.close();
  });

  it('answers one node, mode "single", without a cluster', async () => {
    const res = await single.api('GET', '/api/cluster');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ mode: 'single', nodeId: 'local', alive: 1 });
    expect(res.body.nodes).toHaveLength(1);
    expect(res.body.nodes[0]).toMatchObject({ self: true, alive: true, mqttPort: single.gateway.mqttPort });
    const text = await fetch(`${single.httpUrl}/metrics`).then((r) => r.text());
    expect(text).not.toMatch(/citygate_cluster_nodes_alive|node="/);
  });
});
