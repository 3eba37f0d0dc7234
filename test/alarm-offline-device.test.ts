import { afterEach, describe, expect, it } from 'vitest';
import { fakeAlarmRules } from './helpers/fake-alarm-engine.ts';
import { FakeClock } from './helpers/fake-clock.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { stopDrained } from './helpers/stop-drained.ts';

describe('offline alarm', () => {
  let gw: TestGateway | undefined;
  let clock: FakeClock;
  afterEach(async () => stopDrained(gw, clock));

  it('opens when a real MQTT device disconnects and does not return, and clears when it does', async () => {
    clock = new FakeClock(Date.parse('2026-11-29T22:00:00Z'));
    const rules = fakeAlarmRules({ offlineAfterMs: 3 * 60_000 });
    gw = await startTestGateway({ clock, alarmRules: rules });
    const dev = await gw.register({
      id: 'ws-off-1',
      model: 'aquanet-ws200',
      firmware: '1.0',
      district: 'Cầu Giấy',
    });
    const offline = async () => (await gw!.api('GET', '/api/alarms?device=ws-off-1&state=all')).body.alarms;

    let client = await gw.connect(dev.id, dev.secret);
    await expect.poll(async () => (await gw!.api('GET', '/api/devices/ws-off-1')).body.status).toBe('online');
    client.stream.destroy(); // the link drops: no DISCONNECT packet
    await expect
      .poll(async () => (await gw!.api('GET', '/api/devices/ws-off-1')).body.status)
      .toBe('offline');

    clock.advance(2 * 60_000);
    expect(await offline()).toHaveLength(0);
    clock.advance(60_000);
    expect(await offline()).toMatchObject([
      {
        ruleId: 'offline',
        family: 'water_station',
        district: 'Cầu Giấy',
        state: 'active_unacknowledged',
        raisedAt: '2026-11-29T22:03:00.000Z',
      },
    ]);

    client = await gw.connect(dev.id, dev.secret);
    await expect.poll(async () => (await offline())[0]?.state).toBe('cleared_unacknowledged');
    await client.endAsync();
  });
});
