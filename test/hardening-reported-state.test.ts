import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_STATE_FIELDS, MAX_STATE_TEXT } from '../gateway/ingest/normalizer.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';

/** Reported state is merged across reports: a device must not grow it without bound. */
describe('reported state from a hostile device', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(async () => gw?.stop());

  const settings = (from: number, count: number) =>
    Object.fromEntries(Array.from({ length: count }, (_, i) => [`setting_${from + i}`, i]));

  it('keeps at most MAX_STATE_FIELDS fields over many reports; the report past it is quarantined', async () => {
    const dev = await gw.register({ model: 'lumina-slc300', firmware: '1.0.0' });
    const client = await gw.connect(dev.id, dev.secret);
    const topic = `devices/${dev.id}/state`;
    const perReport = 40;
    for (let r = 0; r < 3; r++)
      await client.publishAsync(topic, JSON.stringify(settings(r * perReport, perReport)), { qos: 1 });
    await client.endAsync();
    const device = (await gw.api('GET', `/api/devices/${dev.id}`)).body;
    expect(Object.keys(device.reportedState)).toHaveLength(perReport);
    const q = (await gw.api('GET', `/api/quarantine?deviceId=${dev.id}`)).body;
    expect(q.entries).toHaveLength(2);
    expect(q.entries[0].reasons[0].message).toMatch(new RegExp(`more than ${MAX_STATE_FIELDS}`));
  });

  it('refuses a text setting longer than MAX_STATE_TEXT', async () => {
    const dev = await gw.register({ model: 'lumina-slc300', firmware: '1.0.0' });
    const client = await gw.connect(dev.id, dev.secret);
    const long = { note: 'x'.repeat(MAX_STATE_TEXT + 1) };
    await client.publishAsync(`devices/${dev.id}/state`, JSON.stringify(long), { qos: 1 });
    await client.publishAsync(`devices/${dev.id}/state`, JSON.stringify({ note: 'ok' }), { qos: 1 });
    await client.endAsync();
    const device = (await gw.api('GET', `/api/devices/${dev.id}`)).body;
    expect(device.reportedState).toEqual({ note: 'ok' });
    const q = (await gw.api('GET', `/api/quarantine?deviceId=${dev.id}`)).body;
    expect(q.entries).toHaveLength(1);
    expect(q.entries[0].reasons[0].path).toBe('.note');
  });
});
