import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fleet } from '../simulators/fleet.ts';
import { placeDevices } from '../simulators/hanoi.ts';
import { GatewayApi, provisionDevices } from '../simulators/load/gateway-api.ts';
import { FakeClock } from './helpers/fake-clock.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';

/**
 * 5,000 simulated lamps (real MQTT clients) on a real gateway step together at 22:30. The
 * programs' clock is a fake one the test moves; the commands are paced on the real clock, at
 * LIGHTING_COMMANDS_PER_SECOND.
 */
const LAMPS = Number(process.env.LAMPS ?? 5000);
// Below what this machine sustains (about 180-1000 commands/s under load), so the bound is what paces.
const RATE = 200;

describe('5,000 lamps stepping together', () => {
  let gw: TestGateway;
  let fleet: Fleet;
  const programClock = new FakeClock(Date.parse('2026-11-30T22:00:00+07:00'));

  beforeAll(async () => {
    gw = await startTestGateway({
      config: { LIGHTING_COMMANDS_PER_SECOND: RATE },
      lighting: { enabled: true, clock: programClock },
    });
    // One assignment for the whole city, so every lamp steps at 22:30.
    const cal = await gw.api('PUT', '/api/lighting/calendar', {
      assignments: [{ id: 'all', group: {}, programs: { weekday: 'hanoi-standard' } }],
    });
    expect(cal.status, JSON.stringify(cal.body)).toBe(200);
    const plans = placeDevices(
      { perFamily: { streetlight: LAMPS }, seed: 'lighting-5000' },
      gw.gateway.ctx.specs,
    );
    const t0 = Date.now();
    const provisioned = await provisionDevices(new GatewayApi(gw.httpUrl, gw.admin), plans, {
      concurrency: 16,
    });
    console.log(`registered in ${Date.now() - t0} ms`);
    fleet = new Fleet({
      url: gw.mqttUrl,
      plans,
      specs: gw.gateway.ctx.specs,
      secrets: new Map(provisioned.map((p) => [p.id, p.secret])),
      connectsPerSecond: 1000,
      device: { intervalMs: 3600_000, publishOnConnect: false },
    });
    const started = await fleet.start();
    console.log(`connected in ${Date.now() - t0} ms`);
    expect(started.failed).toEqual([]);
  }, 900_000);

  afterAll(async () => {
    await fleet?.stop();
    await gw?.stop();
  });

  it('all reach the 22:30 level, and no second holds more than the rate bound', async () => {
    const store = gw.gateway.commands.service.store;
    // The lamps joined at 22:00: the first look gives each the level in force (sunset + 5: 100 %).
    programClock.advance(1000);
    await expect
      .poll(
        () => [...fleet.devices.values()].filter((d) => d.pattern.reported().dim_percent === 100).length,
        {
          timeout: 180_000,
          interval: 500,
        },
      )
      .toBe(LAMPS);
    const from = Date.now();
    programClock.advance(30 * 60_000 - 1000); // 22:30:00
    await expect
      .poll(() => [...fleet.devices.values()].filter((d) => d.pattern.reported().dim_percent === 60).length, {
        timeout: 180_000,
        interval: 500,
      })
      .toBe(LAMPS);
    const times: number[] = [];
    for (const d of fleet.devices.keys())
      for (const c of await store.forDevice(d))
        if (c.createdAt >= from && (c.params as { level: number }).level === 60) times.push(c.createdAt);
    expect(times.length).toBe(LAMPS); // one command each
    times.sort((a, b) => a - b);
    let busiest = 0;
    for (let i = 0, j = 0; i < times.length; i++) {
      while (j < times.length && times[j] < times[i] + 1000) j++;
      busiest = Math.max(busiest, j - i);
    }
    const spreadMs = times[times.length - 1] - times[0];
    console.log(
      `5,000 lamps: commands spread over ${spreadMs} ms, busiest second ${busiest} (bound ${RATE}/s)`,
    );
    // 50 ms pacing ticks of RATE/20 commands: a one-second window meets at most 21 of them.
    expect(busiest).toBeLessThanOrEqual(RATE + RATE / 20);
    expect(spreadMs).toBeGreaterThanOrEqual(((LAMPS - RATE) / RATE) * 1000 * 0.95);
    const lamps = (await gw.api('GET', '/api/lighting/lamps?outOfStep=true&limit=5')).body;
    expect(lamps).toMatchObject({ total: 0, notInStep: 0 });
    const counts = (await store.open()).length;
    expect(counts).toBe(0);
  }, 600_000);
});
