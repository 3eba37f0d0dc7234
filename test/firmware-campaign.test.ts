import { afterEach, describe, expect, it } from 'vitest';
import type { ModelSpec } from '../firmware-specs/define-device.ts';
import { loadSpecs } from '../firmware-specs/index.ts';
import type { SimulatedDevice } from '../simulators/mqtt-device.ts';
import { randomImage, startDevices, uploadFirmware } from './helpers/firmware.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';

const specs = await loadSpecs();
const lumina = specs.get('lumina-slc300') as ModelSpec;
let gw: TestGateway | undefined;
let fleet: SimulatedDevice[] = [];

afterEach(async () => {
  await Promise.all(fleet.map((d) => d.stop(200)));
  fleet = [];
  await gw?.stop();
  gw = undefined;
});

async function artifact(g: TestGateway, version = '3.0.0', from = '2.x'): Promise<string> {
  const res = await uploadFirmware(g, randomImage(48 * 1024), { model: 'lumina-slc300', version, from });
  expect(res.status).toBe(201);
  return res.body.id;
}

const campaign = async (g: TestGateway, body: Record<string, unknown>) => {
  const res = await g.api('POST', '/api/campaigns', body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
};

const show = async (g: TestGateway, id: string) => (await g.api('GET', `/api/campaigns/${id}`)).body;
const devicesOf = async (g: TestGateway, id: string) =>
  (await g.api('GET', `/api/campaigns/${id}/devices?limit=1000`)).body.devices as any[];

describe('firmware campaigns with simulated devices', () => {
  it('updates three groups in turn; the registry records 3.0.0 and readings in the 3.x layout are stored', async () => {
    gw = await startTestGateway();
    const g = gw;
    // Every third device loses its connection mid-download and resumes with a Range request.
    fleet = await startDevices(g, lumina, 9, {
      prefix: 'ota-ok',
      firmware: '2.3.0',
      ota: (i) => (i % 3 === 0 ? { interruptRate: 1 } : undefined),
    });
    const fw = await artifact(g);
    // A group starts only once the one before it passed its success threshold.
    const early: unknown[] = [];
    g.gateway.ctx.events.subscribe((e) => {
      if (e.type !== 'campaign') return;
      for (let i = 1; i < e.groups.length; i++)
        if (e.groups[i].pending < e.groups[i].size && e.groups[i - 1].status !== 'passed')
          early.push(e.groups);
    });
    const c = await campaign(g, {
      name: 'lumina 3.0',
      artifactId: fw,
      selector: { model: 'lumina-slc300', firmware: '2.x' },
      groups: { sizes: [2, 4] },
      successThreshold: 100,
      errorThreshold: 0,
    });
    expect(c.groups.map((x: any) => x.size)).toEqual([2, 4, 3]);
    const resumes: string[] = [];
    for (const d of fleet) d.on('otaResume', () => resumes.push(d.id));
    await expect.poll(async () => (await show(g, c.id)).status, { timeout: 30_000 }).toBe('succeeded');
    expect(early).toEqual([]);
    expect(resumes.sort()).toEqual(['ota-ok-000', 'ota-ok-003', 'ota-ok-006']);
    const done = await show(g, c.id);
    expect(done.total).toMatchObject({ size: 9, succeeded: 9, failed: 0, pending: 0 });
    expect(done.groups.map((x: any) => x.status)).toEqual(['passed', 'passed', 'passed']);
    for (const d of fleet) {
      expect(d.firmwareVersion).toBe('3.0.0');
      expect((await g.api('GET', `/api/devices/${d.id}`)).body.firmware).toBe('3.0.0');
    }
    const targets = await devicesOf(g, c.id);
    expect(targets.every((t) => t.status === 'succeeded' && t.fromVersion === '2.3.0')).toBe(true);
    // The devices now report in the 3.x layout (lamp.power_mw …): stored, not quarantined.
    const since = Date.now();
    for (const d of fleet) d.publishTelemetry();
    await expect
      .poll(async () => {
        const views = await Promise.all(fleet.map((d) => g.api('GET', `/api/devices/${d.id}`)));
        return views.filter((v) => Date.parse(v.body.lastReadingAt) >= since - 1000).length;
      })
      .toBe(9);
    expect((await g.api('GET', '/api/quarantine')).body.total).toBe(0);
    const audit = g.gateway.ctx.db
      .prepare("SELECT actor, detail FROM audit WHERE action = 'device.firmware' ORDER BY id")
      .all() as Array<{ actor: string; detail: string }>;
    expect(audit).toHaveLength(9);
    expect(JSON.parse(audit[0].detail)).toEqual({ from: '2.3.0', to: '3.0.0' });
    expect(audit[0].actor).toBe(`campaign:${c.id}`);
  });
});
