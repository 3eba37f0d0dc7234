import pgDriver from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { createTestDatabase, type TestDatabase } from './helpers/pg.ts';
import { createTestRedis, type TestRedis } from './helpers/redis.ts';

/** A gateway in cluster mode keeps its commands in PostgreSQL: the whole lifecycle through MQTT. */
describe('commands on a gateway in cluster mode (PostgreSQL)', () => {
  let pg: TestDatabase;
  let redis: TestRedis;
  let gw: TestGateway;

  beforeAll(async () => {
    pg = await createTestDatabase('commands_gateway');
    redis = createTestRedis('commands-gateway');
    gw = await startTestGateway({
      config: { DATABASE_URL: pg.url, REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix, NODE_ID: 'node-1' },
    });
  });
  afterAll(async () => {
    await gw?.stop();
    await redis?.cleanup();
    await pg?.drop();
  });

  it('sends, is delivered by PUBACK, succeeds by reply; history, desired state and lists come from PostgreSQL', async () => {
    const dev = await gw.register({ id: `sl-pg-${process.pid}`, model: 'lumina-slc300', firmware: '1.0' });
    const client = await gw.connect(dev.id, dev.secret);
    const received: string[] = [];
    client.on('message', (topic) => received.push(topic.split('/')[3]));
    await client.subscribeAsync(`devices/${dev.id}/commands/+`, { qos: 1 });
    const res = await gw.api('POST', `/api/devices/${dev.id}/commands`, {
      name: 'setDimming',
      params: { level: 35 },
      idempotencyKey: 'dim-35',
    });
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('sent');
    await expect.poll(() => received).toEqual([res.body.id]);
    const again = await gw.api('POST', `/api/devices/${dev.id}/commands`, {
      name: 'setDimming',
      params: { level: 35 },
      idempotencyKey: 'dim-35',
    });
    expect(again).toMatchObject({ status: 200, body: { id: res.body.id } });
    await expect
      .poll(async () => (await gw.api('GET', `/api/commands/${res.body.id}`)).body.status)
      .toBe('delivered');
    await client.publishAsync(
      `devices/${dev.id}/commands/${res.body.id}/reply`,
      JSON.stringify({ ok: true, result: { dim_percent: 35 } }),
      { qos: 1 },
    );
    const done = (await gw.api('GET', `/api/commands/${res.body.id}`)).body;
    expect(done).toMatchObject({ status: 'succeeded', result: { dim_percent: 35 } });
    expect(done.history.map((h: { status: string }) => h.status)).toEqual([
      'queued',
      'sent',
      'delivered',
      'succeeded',
    ]);
    const list = (await gw.api('GET', `/api/devices/${dev.id}/commands`)).body;
    expect(list.commands.map((c: { id: string }) => c.id)).toEqual([res.body.id]);
    const view = (await gw.api('GET', `/api/devices/${dev.id}`)).body;
    expect(view.desiredState).toMatchObject({ dim_percent: 35, version: 1 });
    const db = new pgDriver.Client({ connectionString: pg.url });
    await db.connect();
    try {
      const { rows } = await db.query('SELECT status FROM commands WHERE id = $1', [res.body.id]);
      expect(rows).toEqual([{ status: 'succeeded' }]);
    } finally {
      await db.end();
    }
    await client.endAsync();
  });

  it('a command whose device never answers ends timed_out, and a queued one past its TTL expired', async () => {
    const dev = await gw.register({ id: `sl-pg2-${process.pid}`, model: 'lumina-slc300', firmware: '1.0' });
    const away = await gw.register({ id: `sl-pg3-${process.pid}`, model: 'lumina-slc300', firmware: '1.0' });
    const queued = await gw.api('POST', `/api/devices/${away.id}/commands`, {
      name: 'switchLamp',
      params: { on: true },
      ttlSeconds: 1,
    });
    expect(queued.body.status).toBe('queued');
    const client = await gw.connect(dev.id, dev.secret);
    await client.subscribeAsync(`devices/${dev.id}/commands/+`, { qos: 0 });
    const sent = await gw.api('POST', `/api/devices/${dev.id}/commands`, {
      name: 'setDimming',
      params: { level: 10 },
      timeoutSeconds: 0.5,
    });
    expect(sent.body.status).toBe('sent');
    await expect
      .poll(async () => (await gw.api('GET', `/api/commands/${sent.body.id}`)).body.status, { timeout: 5000 })
      .toBe('timed_out');
    // No expiry timer in cluster mode: the sweep of whichever node is up expires it.
    await expect
      .poll(async () => (await gw.api('GET', `/api/commands/${queued.body.id}`)).body.status, {
        timeout: 5000,
      })
      .toBe('expired');
    await client.endAsync();
  });
});
