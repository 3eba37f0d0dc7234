import { randomBytes } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterSettings } from './helpers/cluster.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { createTestDatabase, type TestDatabase } from './helpers/pg.ts';
import { createTestRedis } from './helpers/redis.ts';

const ADMIN = 'cluster-takeover-admin-0123456789';

/**
 * A device reconnecting to another node while its first connection is open: the first node
 * closes that connection ([MQTT-3.1.4-2] across nodes) and does not report the device offline.
 */
describe('a device taken over by another node', () => {
  const redis = createTestRedis('takeover');
  const run = randomBytes(3).toString('hex');
  let db: TestDatabase;
  let a: TestGateway;
  let b: TestGateway;
  const clients: MqttClient[] = [];

  const node = (nodeId: string) =>
    startTestGateway({
      config: clusterSettings(db, redis, nodeId, ADMIN),
    });
  /** Registered on A; on B too while the registry is per node, else B shares A's (the secret too). */
  async function register(id: string): Promise<{ onA: string; onB: string }> {
    const onA = (await a.register({ id, model: 'lumina-slc300', firmware: '1.0' })).secret;
    const res = await b.api('POST', '/api/devices', {
      id,
      model: 'lumina-slc300',
      firmware: '1.0',
      district: 'Hoàn Kiếm',
      ward: 'Hàng Bạc',
    });
    return { onA, onB: res.status === 201 ? res.body.secret : onA };
  }
  const status = async (gw: TestGateway, id: string) =>
    (await gw.api('GET', `/api/devices/${id}`)).body.status;

  beforeAll(async () => {
    db = await createTestDatabase('cluster_takeover');
    a = await node('takeover-a');
    b = await node('takeover-b');
  });
  afterAll(async () => {
    for (const c of clients) c.end(true);
    await a?.stop();
    await b?.stop();
    await db?.drop();
    await redis.cleanup();
  });

  it('closes the first connection and keeps the device online', async () => {
    const id = `sl-${run}-moving`;
    const secrets = await register(id);
    const first = await a.connect(id, secrets.onA);
    clients.push(first);
    await expect.poll(() => status(a, id)).toBe('online');
    const closed = new Promise<void>((resolve) => first.once('close', () => resolve()));
    const second = await b.connect(id, secrets.onB);
    clients.push(second);
    await closed;
    await expect.poll(() => status(b, id)).toBe('online');
    // A let go of the connection without calling the device offline.
    await expect.poll(async () => (await a.api('GET', '/api/stats')).body.connectedDevices).toBe(0);
    await new Promise((r) => setTimeout(r, 300));
    expect(await status(a, id)).toBe('online');
    expect(second.connected).toBe(true);
  });

  it('still reports a device that really disconnects as offline', async () => {
    const id = `sl-${run}-leaving`;
    const secrets = await register(id);
    const client = await b.connect(id, secrets.onB);
    await expect.poll(() => status(b, id)).toBe('online');
    await client.endAsync();
    await expect.poll(() => status(b, id)).toBe('offline');
  });

  it('marks a command delivered when its PUBACK comes after the session moved to the other node', async () => {
    const id = `sl-${run}-late-ack`;
    const secrets = await register(id);
    // On A the device hears its command but holds the PUBACK back; then its connection drops.
    const first = await a.connect(id, secrets.onA, { clean: false });
    clients.push(first);
    const heard = new Promise<string>((resolve) => {
      first.handleMessage = (packet) => resolve('topic' in packet ? String(packet.topic) : '');
    });
    await first.subscribeAsync(`devices/${id}/commands/+`, { qos: 1 });
    const sent = await a.api('POST', `/api/devices/${id}/commands`, {
      name: 'setDimming',
      params: { level: 40 },
    });
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    const commandId: string = sent.body.id;
    const command = async (gw: TestGateway) => (await gw.api('GET', `/api/commands/${commandId}`)).body;
    expect(await heard).toBe(`devices/${id}/commands/${commandId}`);
    expect((await command(a)).status).toBe('sent');
    first.stream.destroy();

    // B resumes the session from Redis: Aedes sends the command again and the device acknowledges it.
    const second = await b.connect(id, secrets.onB, { clean: false });
    clients.push(second);
    await expect.poll(async () => (await command(b)).status).toBe('delivered');
    const history: Array<{ status: string; detail: string | null }> = (await command(b)).history;
    expect(history.map((h) => h.status)).toEqual(['queued', 'sent', 'delivered']);
    expect(history[2].detail).toContain('takeover-b');
    // The reply from B ends it; A sees the same.
    await second.publishAsync(
      `devices/${id}/commands/${commandId}/reply`,
      JSON.stringify({ ok: true, result: { dim_percent: 40, lamp_on: true } }),
      { qos: 1 },
    );
    await expect.poll(async () => (await command(a)).status).toBe('succeeded');
  });
});
