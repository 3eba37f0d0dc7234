import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from './helpers/fake-clock.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { stopDrained } from './helpers/stop-drained.ts';

// The alarm service with the real rule engine (gateway/alarms/engine.ts) behind buildGateway's default.
describe('alarms from the default rules, end to end', () => {
  let gw: TestGateway | undefined;
  let clock: FakeClock;
  afterEach(async () => stopDrained(gw, clock));

  it('a lamp fault that persists past its on-delay opens an alarm; an override takes effect at once', async () => {
    clock = new FakeClock(Date.parse('2026-11-29T20:00:00Z'));
    gw = await startTestGateway({ clock });
    const dev = await gw.register({ id: 'sl-eng-1', model: 'lumina-slc300', firmware: '1.0' });
    const lamp = await gw.connect(dev.id, dev.secret);
    const send = (err: number) =>
      lamp.publishAsync(
        'devices/sl-eng-1/telemetry',
        JSON.stringify({ on: true, dim: 80, p: 90, lux: 2, hrs: 5, err }),
        {
          qos: 1,
        },
      );
    const alarms = async () => (await gw!.api('GET', '/api/alarms?device=sl-eng-1&state=all')).body.alarms;

    await send(7);
    clock.advance(30_000);
    await send(7);
    expect(await alarms()).toHaveLength(0); // inside the 60 s on-delay
    clock.advance(31_000);
    await send(7);
    expect(await alarms()).toMatchObject([
      {
        ruleId: 'lamp_fault',
        severity: 'major',
        state: 'active_unacknowledged',
        message: 'fault code 7',
        value: 7,
      },
    ]);
    await send(0);
    clock.advance(301_000);
    await send(0);
    expect((await alarms())[0].state).toBe('cleared_unacknowledged');

    const put = await gw.api('PUT', '/api/alarm-rules/overrides/model/lumina-slc300/lamp_fault', {
      onDelaySeconds: 0,
      severity: 'critical',
    });
    expect(put.status).toBe(201);
    const bad = await gw.api('PUT', '/api/alarm-rules/overrides/model/lumina-slc300/lamp_fault', {
      params: { nope: 1 },
    });
    expect(bad.body.message).toContain('body.params.nope');
    await send(3);
    expect(await alarms()).toMatchObject([
      { state: 'active_unacknowledged', severity: 'critical', occurrences: 2 },
    ]);
    await lamp.endAsync();
  });

  it('a device that drops and stays away past three report intervals raises "offline"', async () => {
    clock = new FakeClock(Date.parse('2026-11-29T21:00:00Z'));
    gw = await startTestGateway({ clock });
    const dev = await gw.register({ id: 'sl-eng-2', model: 'lumina-slc300', firmware: '1.0' });
    const lamp = await gw.connect(dev.id, dev.secret);
    await expect.poll(async () => (await gw!.api('GET', '/api/devices/sl-eng-2')).body.status).toBe('online');
    lamp.stream.destroy();
    await expect
      .poll(async () => (await gw!.api('GET', '/api/devices/sl-eng-2')).body.status)
      .toBe('offline');
    clock.advance(3 * 60_000 + 1000); // lumina-slc300 reports every 60 s
    const { alarms } = (await gw.api('GET', '/api/alarms?device=sl-eng-2')).body;
    expect(alarms).toMatchObject([{ ruleId: 'offline', severity: 'major', state: 'active_unacknowledged' }]);
  });
});
