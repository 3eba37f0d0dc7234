import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alarmEvent } from './helpers/events.ts';
import { FakeClock } from './helpers/fake-clock.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { openEvents, type SseStream } from './helpers/sse-client.ts';

const seqOf = (id: string | null) => Number(id!.split('-').pop());

describe('GET /api/events: a live stream with Last-Event-ID resume', () => {
  let gw: TestGateway;
  let clock: FakeClock;
  let viewer: string;
  const open: SseStream[] = [];
  const events = async (query = '', headers: Record<string, string> = {}, token: string | null = viewer) => {
    const s = await openEvents(`${gw.httpUrl}/api/events${query}`, {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    });
    open.push(s);
    return s;
  };
  const publish = (...e: Parameters<typeof gw.gateway.ctx.events.publish>) =>
    gw.gateway.ctx.events.publish(...e);

  beforeAll(async () => {
    clock = new FakeClock();
    gw = await startTestGateway({ clock, config: { EVENTS_BUFFER: 50 } });
    viewer = (await gw.api('POST', '/api/tokens', { name: 'noc-wall', role: 'viewer' })).body.token;
  });
  afterAll(async () => {
    for (const s of open) s.close();
    await gw?.stop();
  });

  it('answers 401 without a token or with a wrong one, and takes ?token= for EventSource', async () => {
    const none = await events('', {}, null);
    expect(none.status).toBe(401);
    expect(await none.body()).toMatchObject({ code: 'GW_ERR_AUTH_REQUIRED' });
    const wrong = await events('?token=cg_wrong', {}, null);
    expect(wrong.status).toBe(401);
    expect(await wrong.body()).toMatchObject({ code: 'GW_ERR_AUTH_INVALID' });
    const byQuery = await events(`?types=alarm&token=${encodeURIComponent(viewer)}`, {}, null);
    expect(byQuery.status).toBe(200);
    publish(alarmEvent(1));
    await expect.poll(() => byQuery.events.map((e) => e.event)).toEqual(['alarm']);
  });

  it('names the bad field of a bad filter', async () => {
    const bad = await events('?types=alarm,weather');
    expect(bad.status).toBe(400);
    expect((await bad.body()).message).toMatch(/^querystring\.types/);
  });

  it("streams a device's presence and its command's transitions in order", async () => {
    const s = await events('?types=presence,command');
    const dev = await gw.register({ model: 'lumina-slc300', firmware: '1.0' });
    const device = await gw.connect(dev.id, dev.secret);
    device.on('message', (topic) => {
      const commandId = topic.split('/')[3];
      device.publishAsync(`devices/${dev.id}/commands/${commandId}/reply`, JSON.stringify({ ok: true }), {
        qos: 1,
      });
    });
    await device.subscribeAsync(`devices/${dev.id}/commands/+`, { qos: 1 });
    const sent = await gw.api('POST', `/api/devices/${dev.id}/commands`, {
      name: 'setDimming',
      params: { level: 40 },
    });
    expect(sent.status).toBe(201);
    await expect
      .poll(() => s.events.filter((e) => e.data.commandId === sent.body.id).map((e) => e.data.status))
      .toEqual(['sent', 'delivered', 'succeeded']);
    await device.endAsync();
    const mine = () => s.events.filter((e) => e.data.deviceId === dev.id);
    await expect
      .poll(() => mine().map((e) => (e.event === 'presence' ? `online=${e.data.online}` : e.data.status)))
      .toEqual(['online=true', 'sent', 'delivered', 'succeeded', 'online=false']);
    const seqs = mine().map((e) => seqOf(e.id));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(mine()[0].data).toMatchObject({ family: 'streetlight', district: 'Hoàn Kiếm' });
  });

  it('after a disconnect, Last-Event-ID resumes with exactly the events missed', async () => {
    const first = await events('?types=alarm');
    for (let n = 101; n <= 103; n++) publish(alarmEvent(n));
    await expect.poll(() => first.events.length).toBe(3);
    const lastId = first.events[2].id!;
    first.close();
    await first.ended;
    for (let n = 104; n <= 107; n++) publish(alarmEvent(n));

    const resumed = await events('?types=alarm', { 'last-event-id': lastId });
    await expect.poll(() => resumed.events.map((e) => e.data.alarm.value)).toEqual([104, 105, 106, 107]);
    publish(alarmEvent(108));
    await expect.poll(() => resumed.events.map((e) => e.data.alarm.value)).toEqual([104, 105, 106, 107, 108]);
    expect(resumed.events.every((e) => e.event === 'alarm')).toBe(true);

    // The same through the query, as a client without headers does it.
    const byQuery = await events(`?types=alarm&lastEventId=${encodeURIComponent(lastId)}`);
    await expect.poll(() => byQuery.events.map((e) => e.data.alarm.value)).toEqual([104, 105, 106, 107, 108]);
  });

  it('tells a client to reset when its id is older than the buffer or from another process', async () => {
    const first = await events('?types=alarm');
    publish(alarmEvent(200));
    await expect.poll(() => first.events.length).toBe(1);
    const lastId = first.events[0].id!;
    first.close();
    for (let n = 201; n <= 260; n++) publish(alarmEvent(n)); // more than EVENTS_BUFFER (50)

    const tooOld = await events('?types=alarm', { 'last-event-id': lastId });
    await expect.poll(() => tooOld.events.length).toBe(1);
    expect(tooOld.events[0]).toMatchObject({
      event: 'reset',
      data: { reason: expect.stringMatching(/no longer buffered/) },
    });
    // After the reset the stream goes on live, and the reset's id resumes from here.
    expect(seqOf(tooOld.events[0].id)).toBe(seqOf(lastId) + 60);
    publish(alarmEvent(261));
    await expect.poll(() => tooOld.events.map((e) => e.data.alarm?.value ?? e.event)).toEqual(['reset', 261]);

    const otherProcess = await events('?types=alarm', { 'last-event-id': 'abc123-5' });
    await expect.poll(() => otherProcess.events[0]?.data.reason).toMatch(/restarted/);
  });

  it('filters by type and district', async () => {
    const baDinh = await events(`?types=alarm&district=${encodeURIComponent('Ba Đình')}`);
    publish(alarmEvent(300, { district: 'Hoàn Kiếm' }));
    publish(alarmEvent(301, { district: 'Ba Đình' }));
    publish(alarmEvent(302, { district: 'Cầu Giấy' }));
    publish(alarmEvent(303, { district: 'Ba Đình' }));
    await expect.poll(() => baDinh.events.map((e) => e.data.alarm.value)).toEqual([301, 303]);
  });

  it('sends the summary once a second and a heartbeat comment every 15 s', async () => {
    const s = await events('?types=summary');
    const dev = await gw.register({ model: 'lumina-slc300', firmware: '1.0' });
    const device = await gw.connect(dev.id, dev.secret);
    clock.advance(1000);
    await expect.poll(() => s.events.length).toBeGreaterThanOrEqual(1);
    const reading = { on: true, dim: 20, p: 30, lux: 1, hrs: 3 };
    const before = s.events.length;
    await device.publishAsync(`devices/${dev.id}/telemetry`, JSON.stringify(Array(6).fill(reading)), {
      qos: 1,
    });
    clock.advance(1000);
    await expect.poll(() => s.events.length).toBe(before + 1);
    const summary = s.events.at(-1)!.data;
    const online = (await gw.api('GET', '/api/devices?family=streetlight&status=online')).body;
    expect(summary).toMatchObject({
      type: 'summary',
      readingsPerSecond: 6,
      openAlarms: { critical: 0, major: 0, minor: 0, warning: 0 },
    });
    expect(summary.devices.streetlight.online).toBe((online.devices ?? online).length);
    expect(Object.keys(summary.devices)).toEqual(
      expect.arrayContaining(['streetlight', 'water_station', 'air_quality', 'electricity_meter']),
    );
    // A quiet second does not drop the figure to nothing: it is averaged over up to 10 s.
    clock.advance(1000);
    await expect.poll(() => s.events.length).toBe(before + 2);
    expect(s.events.at(-1)!.data.readingsPerSecond).toBe(3);
    await device.endAsync();
    clock.advance(15_000);
    await expect.poll(() => s.comments).toContain('heartbeat');
  });
});
