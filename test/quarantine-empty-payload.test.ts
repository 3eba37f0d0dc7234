import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';

// Found by the hostile-client suite (an empty telemetry payload, then listing the quarantine).
describe('an empty payload in the quarantine', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(async () => gw?.stop());

  it('is listed with an empty payload, not a 500', async () => {
    const dev = await gw.register({ id: 'sl-empty-payload', model: 'lumina-slc300', firmware: '1.0.0' });
    const client = await gw.connect(dev.id, dev.secret);
    await client.publishAsync(`devices/${dev.id}/telemetry`, Buffer.alloc(0), { qos: 1 });
    await client.endAsync();
    const q = await gw.api('GET', `/api/quarantine?deviceId=${dev.id}`);
    expect(q.status).toBe(200);
    expect(q.body.entries).toEqual([
      expect.objectContaining({ deviceId: dev.id, payload: '', size: 0, truncated: false }),
    ]);
  });
});
