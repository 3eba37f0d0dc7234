import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateToken } from '../device-registry/tokens.ts';
import { clusterSettings } from './helpers/cluster.ts';
import { connectOutcome, startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { createTestDatabase, type TestDatabase } from './helpers/pg.ts';
import { createTestRedis, type TestRedis } from './helpers/redis.ts';

/**
 * Two gateways on one PostgreSQL registry (issue 11): devices, tokens and audit are shared. On
 * this branch the nodes hear of each other's changes by polling (the Redis bus makes it faster).
 */
describe('devices, tokens and audit shared by two nodes', () => {
  let db: TestDatabase;
  let redis: TestRedis;
  let a: TestGateway;
  let b: TestGateway;
  const suffix = randomBytes(3).toString('hex');

  beforeAll(async () => {
    db = await createTestDatabase('fleet_nodes');
    redis = createTestRedis('fleet_nodes');
    const admin = generateToken();
    const config = (node: string) => clusterSettings(db, redis, node, admin);
    a = await startTestGateway({ config: config('node-a') });
    b = await startTestGateway({ config: config('node-b') });
  }, 60_000);
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await redis.cleanup();
    await db.drop();
  });

  it('a device registered on A connects to B; disabled through A, B cuts it off and refuses it', async () => {
    const dev = await a.register({ id: `fan-${suffix}`, model: 'lumina-slc300', firmware: '1.0.0' });
    // B learns of the device from the registry (its poll; a device.changed message on Redis).
    await expect.poll(() => b.gateway.ctx.devices.get(dev.id), { timeout: 5000 }).toBeDefined();
    const live = await b.connect(dev.id, dev.secret);
    const closed = new Promise<void>((r) => live.once('close', () => r()));
    const disabled = await a.api('PATCH', `/api/devices/${dev.id}`, { enabled: false });
    expect(disabled.body.status).toBe('disabled');
    await closed;
    live.end(true);
    expect((await connectOutcome(b.mqttUrl, dev.id, dev.id, dev.secret)).code).toBe(5);
    const seenOnB = await b.api('GET', `/api/devices/${dev.id}`);
    expect(seenOnB.body.status).toBe('disabled');
  });

  it('B shows the last reading A received; the audit and tokens are the same on both', async () => {
    const dev = await a.register({ id: `fan-r-${suffix}`, model: 'lumina-slc300', firmware: '1.0.0' });
    const client = await a.connect(dev.id, dev.secret);
    await client.publishAsync(
      `devices/${dev.id}/telemetry`,
      JSON.stringify({ on: true, dim: 40, p: 55, lux: 3, hrs: 12 }),
      { qos: 1 },
    );
    await expect
      .poll(async () => (await b.api('GET', `/api/devices/${dev.id}`)).body.lastReading, { timeout: 5000 })
      .toMatchObject({ dim_percent: 40 });
    // Presence: B's lists show the device online on A (A's flush, B's poll of presence_at).
    const onB = async () =>
      (await b.api('GET', '/api/devices?limit=100')).body.devices.find((d: { id: string }) => d.id === dev.id)
        ?.status;
    await expect.poll(onB, { timeout: 8000 }).toBe('online');
    await client.endAsync();
    await expect.poll(onB, { timeout: 8000 }).toBe('offline');
    const audit = await b.api('GET', `/api/audit?device=${dev.id}`);
    expect(audit.body.entries.map((e: { action: string }) => e.action)).toContain('device.register');
    const token = (await a.api('POST', '/api/tokens', { name: 'viewer-x', role: 'viewer' })).body;
    expect((await b.api('GET', '/api/devices?limit=1', undefined, token.token)).status).toBe(200);
    await a.api('DELETE', `/api/tokens/${token.id}`);
    expect((await b.api('GET', '/api/devices?limit=1', undefined, token.token)).status).toBe(401);
  });
});
