import { afterEach, describe, expect, it } from 'vitest';
import { fakeAlarmRules } from './helpers/fake-alarm-engine.ts';
import { FakeClock } from './helpers/fake-clock.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { stopDrained } from './helpers/stop-drained.ts';

describe('alarm state after a restart', () => {
  let gw: TestGateway | undefined;
  let clock: FakeClock;
  afterEach(async () => stopDrained(gw, clock));

  it('keeps alarms, history, shelving and overrides; the engine resumes from the open alarms', async () => {
    clock = new FakeClock(Date.parse('2026-11-29T08:00:00Z'));
    gw = await startTestGateway({ clock, alarmRules: fakeAlarmRules() });
    const dataDir = gw.dataDir;
    const admin = gw.admin;
    const reading = (err: number) => JSON.stringify({ on: true, dim: 50, p: 40, lux: 1, hrs: 2, err });
    const a = await gw.register({ id: 'sl-r1', model: 'lumina-slc300', firmware: '1.0' });
    const b = await gw.register({ id: 'sl-r2', model: 'lumina-slc300', firmware: '1.0' });
    for (const d of [a, b]) {
      const c = await gw.connect(d.id, d.secret);
      await c.publishAsync(`devices/${d.id}/telemetry`, reading(5), { qos: 1 });
      await c.endAsync();
    }
    await expect
      .poll(async () => (await gw!.api('GET', '/api/alarms?family=streetlight')).body.total)
      .toBe(2);
    const byDevice = async (id: string) => (await gw!.api('GET', `/api/alarms?device=${id}`)).body.alarms[0];
    const first = await byDevice('sl-r1');
    const second = await byDevice('sl-r2');
    await gw.api('POST', `/api/alarms/${first.id}/ack`);
    await gw.api('POST', `/api/alarms/${second.id}/shelve`, { minutes: 60, reason: 'replacing the driver' });
    const put = await gw.api('PUT', '/api/alarm-rules/overrides/device/sl-r1/lamp_fault', {
      severity: 'critical',
    });
    expect(put.status).toBe(201);
    await stopDrained(gw, clock, { keepData: true });

    clock.advance(10 * 60_000);
    const rules = fakeAlarmRules();
    gw = await startTestGateway({
      clock,
      dataDir,
      alarmRules: rules,
      config: { CITYGATE_ADMIN_TOKEN: admin },
    });
    expect(rules.engine!.restored).toEqual(
      expect.arrayContaining([
        { deviceId: 'sl-r1', ruleId: 'lamp_fault' },
        { deviceId: 'sl-r2', ruleId: 'lamp_fault' },
      ]),
    );
    expect(await byDevice('sl-r1')).toMatchObject({
      id: first.id,
      state: 'active_acknowledged',
      acknowledgedBy: 'admin',
    });
    expect(await byDevice('sl-r2')).toMatchObject({ id: second.id, shelveReason: 'replacing the driver' });
    const effective = (await gw.api('GET', '/api/alarm-rules?device=sl-r1')).body;
    expect(effective.rules.find((r: { id: string }) => r.id === 'lamp_fault').severity).toBe('critical');

    // The engine knew the condition held: a normal reading now clears the acknowledged alarm.
    const c = await gw.connect(a.id, a.secret);
    await c.publishAsync('devices/sl-r1/telemetry', reading(0), { qos: 1 });
    await c.endAsync();
    await expect
      .poll(async () => (await gw!.api('GET', `/api/alarms/${first.id}`)).body.state)
      .toBe('closed');
    const history = (await gw.api('GET', `/api/alarms/${first.id}`)).body.history;
    expect(history.map((h: { transition: string }) => h.transition)).toEqual([
      'raised',
      'acknowledged',
      'closed',
    ]);

    // Shelving timers are rescheduled from the store: the hour runs out 50 minutes after the restart.
    clock.advance(50 * 60_000);
    await expect
      .poll(async () => (await gw!.api('GET', `/api/alarms/${second.id}`)).body.shelvedUntil)
      .toBeNull();
  });
});
