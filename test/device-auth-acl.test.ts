import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectOutcome, startTestGateway, type TestGateway } from './helpers/gateway.ts';

const reading = { on: true, dim: 50, p: 60, lux: 2, hrs: 10 };

describe('device authentication and per-device ACL', () => {
  let gw: TestGateway;
  let a: { id: string; secret: string };
  let b: { id: string; secret: string };
  beforeAll(async () => {
    gw = await startTestGateway();
    a = await gw.register({ id: 'acl-a', model: 'lumina-slc300', firmware: '1.0.0' });
    b = await gw.register({ id: 'acl-b', model: 'lumina-slc300', firmware: '1.0.0' });
  });
  afterAll(async () => gw?.stop());

  it('refuses a wrong password with CONNACK 4', async () => {
    const res = await connectOutcome(gw.mqttUrl, a.id, a.id, 'not-the-secret');
    expect(res.code).toBe(4);
  });

  it('refuses an unknown device', async () => {
    const res = await connectOutcome(gw.mqttUrl, 'nobody', 'nobody', a.secret);
    expect(res.code).toBe(4);
  });

  it('refuses a username that is not the client id', async () => {
    const res = await connectOutcome(gw.mqttUrl, a.id, b.id, b.secret);
    expect(res.code).toBe(4);
  });

  it('refuses a disabled device with CONNACK 5 and cuts off its live connection', async () => {
    const c = await gw.register({ id: 'acl-disabled', model: 'lumina-slc300', firmware: '1.0.0' });
    const live = await gw.connect(c.id, c.secret);
    const closed = new Promise<void>((r) => live.once('close', () => r()));
    const patched = await gw.api('PATCH', `/api/devices/${c.id}`, { enabled: false });
    expect(patched.body.status).toBe('disabled');
    await closed;
    live.end(true);
    const res = await connectOutcome(gw.mqttUrl, c.id, c.id, c.secret);
    expect(res.code).toBe(5);
    await gw.api('PATCH', `/api/devices/${c.id}`, { enabled: true });
    const again = await gw.connect(c.id, c.secret);
    expect(again.connected).toBe(true);
    await again.endAsync();
  });

  it('closes a device that publishes into another device subtree, and stores nothing of it', async () => {
    const client = await gw.connect(a.id, a.secret);
    const closed = new Promise<void>((r) => client.once('close', () => r()));
    client.publish(`devices/${b.id}/telemetry`, JSON.stringify(reading), { qos: 1 });
    await closed;
    client.end(true);
    await new Promise((r) => setTimeout(r, 200));
    const dev = await gw.api('GET', `/api/devices/${b.id}`);
    expect(dev.body.lastReading).toBeNull();
    expect(gw.gateway.ctx.outbox.pending + (await gw.api('GET', '/api/stats')).body.written).toBe(0);
    const stats = await gw.api('GET', '/api/stats');
    expect(stats.body.aclDenied).toBeGreaterThanOrEqual(1);
  });

  it('refuses subscriptions outside its own commands, including wildcards', async () => {
    const client = await gw.connect(a.id, a.secret);
    for (const topic of [
      `devices/${b.id}/commands/#`,
      'devices/+/commands/#',
      '#',
      `devices/${a.id}/#`,
      `devices/${b.id}/status`,
    ]) {
      const refused = await client.subscribeAsync(topic, { qos: 1 }).then(
        (granted) => granted[0].qos === 128,
        (err: Error) => /Subscribe error/.test(err.message),
      );
      expect(refused, topic).toBe(true);
    }
    const own = await client.subscribeAsync(`devices/${a.id}/commands/#`, { qos: 1 });
    expect(own[0].qos).toBe(1);
    await client.endAsync();
  });

  it('publishes a retained online/offline status for each device', async () => {
    const watcher = await gw.connect(b.id, b.secret);
    const client = await gw.connect(a.id, a.secret);
    await client.endAsync();
    await new Promise((r) => setTimeout(r, 100));
    await watcher.endAsync();
    // The status topic is the gateway's; read it as the broker holds it (retained).
    const retained = await new Promise<Buffer>((resolve, reject) => {
      (
        gw.gateway.ctx.broker as unknown as {
          persistence: { createRetainedStream(p: string): NodeJS.ReadableStream };
        }
      ).persistence
        .createRetainedStream(`devices/${a.id}/status`)
        .once('data', (p: { payload: Buffer }) => resolve(p.payload))
        .once('error', reject);
    });
    expect(JSON.parse(retained.toString())).toMatchObject({ online: false });
    const dev = await gw.api('GET', `/api/devices/${a.id}`);
    expect(dev.body.status).toBe('offline');
  });
});
