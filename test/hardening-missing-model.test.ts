import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSpecs } from '../firmware-specs/index.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';

// Issue 8, row 17: a registered device whose model file was removed or renamed made the first
// publish throw inside authorizePublish (devices.spec(device) was undefined), and the process died.
describe('a registered device whose model is no longer loaded', () => {
  let gw: TestGateway | undefined;
  afterAll(async () => gw?.stop());

  it('is reported at start, listed by the API, and its readings are quarantined with the reason', async () => {
    const specs = await loadSpecs();
    const first = await startTestGateway({ specs });
    const dev = await first.register({ model: 'lumina-slc300', firmware: '1.0.0' });
    await first.register({ model: 'lumina-slc300', firmware: '1.0.0' });
    await first.stop({ keepData: true });

    const lines: Array<Record<string, unknown>> = [];
    const log = pino({ level: 'warn' }, { write: (s: string) => lines.push(JSON.parse(s)) });
    const without = new Map([...specs].filter(([id]) => id !== 'lumina-slc300'));
    gw = await startTestGateway({ specs: without, dataDir: first.dataDir, log });
    expect(lines).toContainEqual(expect.objectContaining({ level: 40, model: 'lumina-slc300', devices: 2 }));

    const client = await gw.connect(dev.id, dev.secret);
    await client.publishAsync(
      `devices/${dev.id}/telemetry`,
      JSON.stringify({ on: true, dim: 20, p: 30, lux: 1, hrs: 3 }),
      { qos: 1 },
    );
    await client.endAsync();
    const q = await gw.api('GET', `/api/quarantine?deviceId=${dev.id}`);
    expect(q.body.entries).toEqual([
      expect.objectContaining({ reasons: [{ path: '$', message: 'model lumina-slc300 is not loaded' }] }),
    ]);
    const listed = await gw.api('GET', '/api/devices?model=lumina-slc300');
    expect(listed.body.devices.map((d: { id: string }) => d.id)).toContain(dev.id);
    expect((await fetch(`${gw.httpUrl}/healthz`)).status).toBe(200);
  });
});
