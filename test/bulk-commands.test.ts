import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fleet } from '../simulators/fleet.ts';
import { placeDevices } from '../simulators/hanoi.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { eventually } from './helpers/wait.ts';

const LAMPS = 300;
const SILENT = 5;

describe('group commands to simulated streetlights', () => {
  let gw: TestGateway;
  let fleet: Fleet;
  let operator: string;
  beforeAll(async () => {
    gw = await startTestGateway();
    operator = (await gw.api('POST', '/api/tokens', { name: 'shift-lead', role: 'operator' })).body.token;
    const plans = placeDevices(
      { perFamily: { streetlight: LAMPS, electricity_meter: 3 }, seed: 'bulk-test' },
      gw.gateway.ctx.specs,
    );
    const secrets = new Map<string, string>();
    for (const p of plans) {
      const { secret } = await gw.register({
        id: p.id,
        model: p.model,
        firmware: p.firmware,
        district: p.district,
        ward: p.ward,
        tags: p.tags,
      });
      secrets.set(p.id, secret);
    }
    const silent = new Set(
      plans
        .filter((p) => p.family === 'streetlight')
        .slice(0, SILENT)
        .map((p) => p.id),
    );
    fleet = new Fleet({
      url: gw.mqttUrl,
      plans,
      specs: gw.gateway.ctx.specs,
      secrets,
      connectsPerSecond: 500,
      device: { intervalMs: 3600_000, publishOnConnect: false },
      overrides: (p) => (silent.has(p.id) ? { neverReply: true } : undefined),
    });
    const started = await fleet.start();
    expect(started.failed).toEqual([]);
  }, 60_000);
  afterAll(async () => {
    await fleet?.stop();
    await gw?.stop();
  });

  it('dims every lamp of the city at a bounded rate; every device reaches a final state and the summary adds up', async () => {
    const started = Date.now();
    const res = await gw.api(
      'POST',
      '/api/commands/bulk',
      {
        selector: { family: 'streetlight' },
        name: 'setDimming',
        params: { level: 40 },
        ratePerSecond: 1000,
        timeoutSeconds: 3,
      },
      operator,
    );
    expect(res.status).toBe(202);
    expect(res.body.total).toBe(LAMPS);
    let status = res.body;
    while (!status.done && Date.now() - started < 20_000) {
      await new Promise((r) => setTimeout(r, 200));
      status = (await gw.api('GET', `/api/commands/bulk/${res.body.id}`, undefined, operator)).body;
    }
    expect(status.done).toBe(true);
    expect(status.counts).toMatchObject({
      succeeded: LAMPS - SILENT,
      timed_out: SILENT,
      queued: 0,
      sent: 0,
      delivered: 0,
    });
    const byStatus: Record<string, number> = {};
    for (const d of status.devices) byStatus[d.status] = (byStatus[d.status] ?? 0) + 1;
    expect(byStatus).toEqual({ succeeded: LAMPS - SILENT, timed_out: SILENT });
    expect(new Set(status.devices.map((d: { deviceId: string }) => d.deviceId)).size).toBe(LAMPS);

    // The lamps really did dim, and told us so.
    const one = status.devices.find((d: { status: string }) => d.status === 'succeeded');
    await new Promise((r) => setTimeout(r, 300));
    const device = (await gw.api('GET', `/api/devices/${one.deviceId}`)).body;
    expect(device.reportedState).toMatchObject({ dim_percent: 40 });
    expect(device.desiredState).toMatchObject({ dim_percent: 40 });
  }, 30_000);

  it('skips devices whose model lacks the command and reports why', async () => {
    const res = await gw.api(
      'POST',
      '/api/commands/bulk',
      {
        selector: { ids: [...fleet.devices.keys()].filter((id) => id.startsWith('em-')).concat('nope') },
        name: 'setDimming',
        params: { level: 5 },
      },
      operator,
    );
    expect(res).toMatchObject({ status: 400, body: { code: 'CMD_ERR_NO_DEVICES' } });
    const mixed = await gw.api(
      'POST',
      '/api/commands/bulk',
      { selector: { ids: [...fleet.devices.keys()].slice(0, 400) }, name: 'readNow', params: {} },
      operator,
    );
    expect(mixed.status).toBe(202);
    expect(mixed.body.total).toBe(3);
    expect(mixed.body.skipped).toHaveLength(LAMPS);
    expect(mixed.body.skipped[0].reason).toMatch(/has no command readNow/);
  });
});

describe('a bulk roll-out across a restart', () => {
  it('goes on with the devices not yet given the command, and ends done', async () => {
    const gw1 = await startTestGateway();
    const ids: string[] = [];
    for (let i = 0; i < 40; i++)
      ids.push((await gw1.register({ id: `sl-resume-${i}`, model: 'lumina-slc300', firmware: '1.0' })).id);
    // 10 per second: the stop comes while most devices are still waiting for their turn.
    const started = await gw1.api('POST', '/api/commands/bulk', {
      selector: { ids },
      name: 'switchLamp',
      params: { on: true },
      ratePerSecond: 10,
      ttlSeconds: 1,
    });
    await new Promise((r) => setTimeout(r, 300));
    const before = (await gw1.api('GET', `/api/commands/bulk/${started.body.id}`)).body;
    expect(before.submitted).toBeLessThan(40);
    await gw1.stop({ keepData: true });

    const gw2 = await startTestGateway({ dataDir: gw1.dataDir });
    try {
      const after = await eventually(
        async () => (await gw2.api('GET', `/api/commands/bulk/${started.body.id}`)).body,
        (b) => b.done,
        15_000,
      );
      // The devices are offline: every command waits, then expires; none is left unknown.
      expect(after).toMatchObject({ done: true, submitted: 40, counts: { expired: 40 } });
    } finally {
      await gw2.stop();
    }
  }, 30_000);
});
