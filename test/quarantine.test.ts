import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';

describe('quarantine of rejected readings', () => {
  let gw: TestGateway;
  let dev: { id: string; secret: string };
  beforeAll(async () => {
    gw = await startTestGateway();
    dev = await gw.register({ id: 'sl-quarantine', model: 'lumina-slc300', firmware: '1.0.0' });
  });
  afterAll(async () => gw?.stop());

  it('keeps an invalid payload with the field path and the reason, and acknowledges it', async () => {
    const client = await gw.connect(dev.id, dev.secret);
    const bad = { on: true, dim: 140, p: 60, lux: 2, hrs: 10 };
    await client.publishAsync(`devices/${dev.id}/telemetry`, JSON.stringify(bad), { qos: 1 });
    await client.endAsync();
    const q = await gw.api('GET', `/api/quarantine?deviceId=${dev.id}`);
    expect(q.status).toBe(200);
    const entry = q.body.entries[0];
    expect(entry).toMatchObject({
      deviceId: dev.id,
      topic: `devices/${dev.id}/telemetry`,
      payloadEncoding: 'utf8',
    });
    expect(JSON.parse(entry.payload)).toEqual(bad);
    expect(entry.reasons).toEqual([{ path: '.dim', message: expect.stringMatching(/<=100/) }]);
  });

  it('keeps a non-JSON payload byte for byte with a readable reason', async () => {
    const client = await gw.connect(dev.id, dev.secret);
    await client.publishAsync(`devices/${dev.id}/telemetry`, Buffer.from([0xff, 0x00, 0x7b]), { qos: 1 });
    await client.publishAsync(`devices/${dev.id}/telemetry`, 'dim=40;on=1', { qos: 1 });
    await client.endAsync();
    const q = await gw.api('GET', `/api/quarantine?deviceId=${dev.id}&limit=2`);
    const [text, binary] = q.body.entries;
    expect(text.payload).toBe('dim=40;on=1');
    expect(text.reasons[0]).toMatchObject({ path: '$', message: expect.stringMatching(/^not JSON/) });
    expect(binary.payloadEncoding).toBe('base64');
    expect(Buffer.from(binary.payload, 'base64')).toEqual(Buffer.from([0xff, 0x00, 0x7b]));
  });

  // One entry per payload: the bytes as they came, once, with a reason per bad element
  // (re-serializing a parsed element could recurse without bound: issue 8, row 1).
  it('in an array, keeps the payload once with the bad elements named and stores the rest', async () => {
    const client = await gw.connect(dev.id, dev.secret);
    const good = { on: true, dim: 20, p: 30, lux: 1, hrs: 3 };
    const payload = JSON.stringify([good, { ...good, p: 'x' }, 7]);
    await client.publishAsync(`devices/${dev.id}/telemetry`, payload, { qos: 1 });
    await client.endAsync();
    const q = await gw.api('GET', `/api/quarantine?deviceId=${dev.id}&limit=2`);
    expect(q.body.entries[0].payload).toBe(payload);
    expect(q.body.entries[0].reasons.map((r: { path: string }) => r.path)).toEqual(['[1].p', '[2]']);
    expect(q.body.entries[1].payload).not.toBe(payload);
    const device = await gw.api('GET', `/api/devices/${dev.id}`);
    expect(device.body.lastReading).toMatchObject({ dim_percent: 20 });
  });

  it('counts what it received, accepted and quarantined', async () => {
    const stats = (await gw.api('GET', '/api/stats')).body;
    expect(stats).toMatchObject({ received: 6, accepted: 1, quarantined: 5 });
    const metrics = await fetch(`${gw.httpUrl}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/^citygate_readings_quarantined_total 5$/m);
  });

  it('quarantines a malformed state report', async () => {
    const client = await gw.connect(dev.id, dev.secret);
    await client.publishAsync(`devices/${dev.id}/state`, JSON.stringify({ dim_percent: 'full' }), { qos: 1 });
    await client.publishAsync(`devices/${dev.id}/state`, JSON.stringify({ dim_percent: 35, lamp_on: true }), {
      qos: 1,
    });
    await client.endAsync();
    const q = await gw.api('GET', `/api/quarantine?deviceId=${dev.id}&limit=1`);
    expect(q.body.entries[0]).toMatchObject({
      topic: `devices/${dev.id}/state`,
      reasons: [{ path: '.dim_percent' }],
    });
    const device = await gw.api('GET', `/api/devices/${dev.id}`);
    expect(device.body.reportedState).toEqual({ dim_percent: 35, lamp_on: true });
  });
});
