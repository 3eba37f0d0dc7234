import type { MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GatewayEvent } from '../gateway/events/bus.ts';
import { fakeAlarmRules } from './helpers/fake-alarm-engine.ts';
import { FakeClock } from './helpers/fake-clock.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { stopDrained } from './helpers/stop-drained.ts';

describe('alarm lifecycle and roles over HTTP', () => {
  let gw: TestGateway;
  let clock: FakeClock;
  let events: Array<Extract<GatewayEvent, { type: 'alarm' }>>;
  let lamp: MqttClient;
  let operator: string;
  let viewer: string;

  const token = async (role: string) =>
    (await gw.api('POST', '/api/tokens', { name: `${role}-ana`, role })).body.token as string;
  const fault = (err: number) =>
    lamp.publishAsync(
      'devices/sl-1/telemetry',
      JSON.stringify({ on: true, dim: 70, p: 80, lux: 2, hrs: 1, err }),
      {
        qos: 1,
      },
    );
  const openAlarm = async () => (await gw.api('GET', '/api/alarms?device=sl-1')).body.alarms[0];

  beforeEach(async () => {
    clock = new FakeClock(Date.parse('2026-11-29T10:00:00Z'));
    gw = await startTestGateway({ clock, alarmRules: fakeAlarmRules() });
    events = [];
    gw.gateway.ctx.events.subscribe((e) => e.type === 'alarm' && events.push(e));
    const dev = await gw.register({
      id: 'sl-1',
      model: 'lumina-slc300',
      firmware: '1.0',
      district: 'Ba Đình',
    });
    lamp = await gw.connect(dev.id, dev.secret);
    operator = await token('operator');
    viewer = await token('viewer');
  });
  afterEach(async () => {
    await lamp?.endAsync();
    await stopDrained(gw, clock);
  });

  it('raises on a fault, an operator acknowledges, the clear closes it; every step has actor and time', async () => {
    await fault(7);
    const raised = await openAlarm();
    expect(raised).toMatchObject({
      deviceId: 'sl-1',
      family: 'streetlight',
      district: 'Ba Đình',
      ruleId: 'lamp_fault',
      severity: 'major',
      state: 'active_unacknowledged',
      value: 7,
      occurrences: 1,
    });

    const denied = await gw.api('POST', `/api/alarms/${raised.id}/ack`, {}, viewer);
    expect(denied.status).toBe(403);
    expect(denied.body.code).toBe('GW_ERR_FORBIDDEN');
    expect((await gw.api('GET', `/api/alarms/${raised.id}`, undefined, viewer)).status).toBe(200);

    clock.advance(30_000);
    const acked = await gw.api('POST', `/api/alarms/${raised.id}/ack`, {}, operator);
    expect(acked.status).toBe(200);
    expect(acked.body).toMatchObject({
      state: 'active_acknowledged',
      acknowledgedBy: 'operator-ana',
      acknowledgedAt: '2026-11-29T10:00:30.000Z',
    });
    const again = await gw.api('POST', `/api/alarms/${raised.id}/ack`, {}, operator);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('ALM_ERR_NOT_ACKNOWLEDGEABLE');

    clock.advance(60_000);
    await fault(0);
    await expect
      .poll(async () => (await gw.api('GET', `/api/alarms/${raised.id}`)).body.state)
      .toBe('closed');
    const { body } = await gw.api('GET', `/api/alarms/${raised.id}`, undefined, viewer);
    expect(body.clearedAt).toBe('2026-11-29T10:01:30.000Z');
    expect(
      body.history.map((h: { transition: string; actor: string; at: string }) => [
        h.transition,
        h.actor,
        h.at,
      ]),
    ).toEqual([
      ['raised', 'system', '2026-11-29T10:00:00.000Z'],
      ['acknowledged', 'operator-ana', '2026-11-29T10:00:30.000Z'],
      ['closed', 'system', '2026-11-29T10:01:30.000Z'],
    ]);
    expect(events.map((e) => [e.transition, e.actor, e.alarm.state])).toEqual([
      ['raised', 'system', 'active_unacknowledged'],
      ['acknowledged', 'operator-ana', 'active_acknowledged'],
      ['closed', 'system', 'closed'],
    ]);
    expect((await gw.api('GET', '/api/alarms?device=sl-1')).body.total).toBe(0);
    expect((await gw.api('GET', '/api/alarms?device=sl-1&state=all')).body.total).toBe(1);
  });

  it('clears before anyone acknowledges, returns as the same alarm with two occurrences, closes on ack', async () => {
    await fault(7);
    const { id } = await openAlarm();
    await fault(0);
    await expect.poll(async () => (await openAlarm())?.state).toBe('cleared_unacknowledged');
    await fault(9);
    await expect.poll(async () => (await openAlarm())?.state).toBe('active_unacknowledged');
    expect(await openAlarm()).toMatchObject({ id, occurrences: 2, value: 9, clearedAt: null });
    await fault(0);
    await expect.poll(async () => (await openAlarm())?.state).toBe('cleared_unacknowledged');
    const closed = await gw.api('POST', `/api/alarms/${id}/ack`, {}, operator);
    expect(closed.body).toMatchObject({ state: 'closed', acknowledgedBy: 'operator-ana' });
    expect(events.map((e) => e.transition)).toEqual(['raised', 'cleared', 'repeated', 'cleared', 'closed']);
    const history = (await gw.api('GET', `/api/alarms/${id}`)).body.history;
    expect(history.at(-1)).toMatchObject({
      transition: 'closed',
      actor: 'operator-ana',
      detail: 'acknowledged after it cleared',
    });
  });

  it('shelves for a time with a reason, unshelves by hand, and shelving expires by itself', async () => {
    await fault(7);
    const { id } = await openAlarm();
    expect(
      (await gw.api('POST', `/api/alarms/${id}/shelve`, { minutes: 30, reason: 'crew on site' }, viewer))
        .status,
    ).toBe(403);
    const bad = await gw.api('POST', `/api/alarms/${id}/shelve`, { minutes: 0, reason: '' }, operator);
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('body.minutes');
    expect(bad.body.message).toContain('body.reason');

    const shelved = await gw.api(
      'POST',
      `/api/alarms/${id}/shelve`,
      { minutes: 30, reason: 'crew on site' },
      operator,
    );
    expect(shelved.body).toMatchObject({
      state: 'active_unacknowledged',
      shelvedUntil: '2026-11-29T10:30:00.000Z',
      shelvedBy: 'operator-ana',
      shelveReason: 'crew on site',
    });
    expect((await gw.api('GET', '/api/alarms?shelved=false')).body.total).toBe(0);
    expect((await gw.api('GET', '/api/alarms?shelved=true')).body.total).toBe(1);
    const unshelved = await gw.api('POST', `/api/alarms/${id}/unshelve`, {}, operator);
    expect(unshelved.body.shelvedUntil).toBeNull();
    expect((await gw.api('POST', `/api/alarms/${id}/unshelve`, {}, operator)).body.code).toBe(
      'ALM_ERR_NOT_SHELVED',
    );

    await gw.api('POST', `/api/alarms/${id}/shelve`, { minutes: 5, reason: 'known outage' }, operator);
    clock.advance(5 * 60_000);
    const after = (await gw.api('GET', `/api/alarms/${id}`)).body;
    expect(after.shelvedUntil).toBeNull();
    expect(after.history.at(-1)).toMatchObject({
      transition: 'unshelved',
      actor: 'system',
      detail: 'shelving expired',
      at: '2026-11-29T10:05:00.000Z',
    });
    expect(events.map((e) => e.transition)).toEqual([
      'raised',
      'shelved',
      'unshelved',
      'shelved',
      'unshelved',
    ]);
  });

  it('lists with filters and a capped, paginated limit; unknown ids and bad filters are 4xx naming the field', async () => {
    await fault(7);
    const other = await gw.register({
      id: 'sl-2',
      model: 'lumina-slc300',
      firmware: '1.0',
      district: 'Tây Hồ',
    });
    const lamp2 = await gw.connect(other.id, other.secret);
    await lamp2.publishAsync(
      'devices/sl-2/telemetry',
      JSON.stringify({ on: true, dim: 1, p: 1, lux: 1, hrs: 1, err: 3 }),
      {
        qos: 1,
      },
    );
    await lamp2.endAsync();
    await expect.poll(async () => (await gw.api('GET', '/api/alarms')).body.total).toBe(2);
    const page = await gw.api('GET', '/api/alarms?limit=1&offset=1', undefined, viewer);
    expect(page.body).toMatchObject({ total: 2, limit: 1, offset: 1 });
    expect(page.body.alarms).toHaveLength(1);
    expect(
      (await gw.api('GET', '/api/alarms?district=T%C3%A2y%20H%E1%BB%93')).body.alarms.map(
        (a: { deviceId: string }) => a.deviceId,
      ),
    ).toEqual(['sl-2']);
    expect((await gw.api('GET', '/api/alarms?severity=major&family=streetlight')).body.total).toBe(2);
    expect((await gw.api('GET', '/api/alarms?severity=critical')).body.total).toBe(0);
    expect((await gw.api('GET', '/api/alarms?state=active_acknowledged')).body.total).toBe(0);

    const tooMany = await gw.api('GET', '/api/alarms?limit=5000');
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.message).toContain('querystring.limit');
    expect((await gw.api('GET', '/api/alarms?state=burning')).body.message).toContain('querystring.state');
    expect((await gw.api('GET', '/api/alarms/alm_nope')).body.code).toBe('ALM_ERR_NOT_FOUND');
    expect((await gw.api('GET', '/api/alarms', undefined, 'bogus')).status).toBe(401);
  });

  it('exposes active alarms, transitions and the flood count on /metrics', async () => {
    await fault(7);
    await expect.poll(async () => (await gw.api('GET', '/api/alarms')).body.total).toBe(1);
    gw.gateway.alarms.engine.stats = () => ({ chattering: 2 });
    const text = await (await fetch(`${gw.httpUrl}/metrics`)).text();
    expect(text).toContain('citygate_alarms_active{severity="major",family="streetlight"} 1');
    expect(text).toContain('citygate_alarms_active{severity="critical",family="streetlight"} 0');
    expect(text).toContain('citygate_alarm_transitions_total{transition="raised"} 1');
    expect(text).toContain('citygate_alarm_flood 1');
    expect(text).toContain('citygate_alarms_chattering_total 2');
    clock.advance(11 * 60_000);
    expect(await (await fetch(`${gw.httpUrl}/metrics`)).text()).toContain('citygate_alarm_flood 0');
  });
});
