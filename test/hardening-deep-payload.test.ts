import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';

// Issue 8, row 1: one array element nested 5,000 levels deep (10 KB) made JSON.stringify
// overflow the stack inside authorizePublish, and the process exited.
describe('a payload nested deeper than PAYLOAD_MAX_DEPTH', () => {
  let gw: TestGateway;
  let dev: { id: string; secret: string };
  const good = { on: true, dim: 20, p: 30, lux: 1, hrs: 3 };
  beforeAll(async () => {
    gw = await startTestGateway();
    dev = await gw.register({ model: 'lumina-slc300', firmware: '1.0.0' });
  });
  afterAll(async () => gw?.stop());

  it('is quarantined unparsed with that reason and acknowledged; the next reading is stored', async () => {
    const client = await gw.connect(dev.id, dev.secret);
    const topic = `devices/${dev.id}/telemetry`;
    const deepArray = `[${JSON.stringify(good)},{"on":${'['.repeat(5000)}${']'.repeat(5000)}}]`;
    const deepObject = `[${JSON.stringify(good)},${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}]`;
    await client.publishAsync(topic, deepArray, { qos: 1 });
    await client.publishAsync(topic, deepObject, { qos: 1 });
    await client.publishAsync(`devices/${dev.id}/state`, `{"dim_percent":${'['.repeat(5000)}}`, { qos: 1 });
    await client.publishAsync(topic, JSON.stringify({ ...good, dim: 42 }), { qos: 1 });
    await client.endAsync();

    const q = await gw.api('GET', `/api/quarantine?deviceId=${dev.id}`);
    expect(q.status).toBe(200);
    expect(q.body.entries).toHaveLength(3);
    for (const entry of q.body.entries)
      expect(entry.reasons).toEqual([{ path: '$', message: 'nested deeper than 32 levels' }]);
    const [, objectEntry, arrayEntry] = q.body.entries;
    // The bytes as they came (their first QUARANTINE_MAX_RAW_BYTES), never re-serialized.
    expect(arrayEntry).toMatchObject({
      payload: deepArray.slice(0, 4096),
      size: deepArray.length,
      truncated: true,
    });
    expect(objectEntry).toMatchObject({ payload: deepObject.slice(0, 4096), size: deepObject.length });
    const device = await gw.api('GET', `/api/devices/${dev.id}`);
    expect(device.body.lastReading).toMatchObject({ dim_percent: 42 });
  });
});
