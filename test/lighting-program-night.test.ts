import { afterEach, describe, expect, it } from 'vitest';
import { loadSpecs } from '../firmware-specs/index.ts';
import type { Clock } from '../gateway/clock.ts';
import { localClock, localDate, localInstant } from '../gateway/lighting/local-time.ts';
import { nightSun } from '../gateway/lighting/sun.ts';
import { realClock, SimulatedDevice } from '../simulators/mqtt-device.ts';
import { FakeClock } from './helpers/fake-clock.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { stopDrained } from './helpers/stop-drained.ts';

/**
 * The calendar run by a real gateway on a fake clock, with real MQTT lamps (the simulator):
 * which setDimming commands go out, when, and what the lamps end at.
 */
const specs = await loadSpecs();
const HOAN_KIEM = { district: 'Hoàn Kiếm', ward: 'Hàng Bạc', lat: 21.0285, lon: 105.8542 };
const BA_DINH = { district: 'Ba Đình', ward: 'Kim Mã', lat: 21.034, lon: 105.814 };

interface Lab {
  gw: TestGateway;
  clock: FakeClock;
  lamps: Map<string, SimulatedDevice>;
  secrets: Map<string, string>;
  heard: Map<string, number[]>;
}

let labs: Lab[] = [];
afterEach(async () => {
  for (const lab of labs) {
    await Promise.all([...lab.lamps.values()].map((l) => l.stop(100)));
    await stopDrained(lab.gw, lab.clock);
  }
  labs = [];
});

async function connectLamp(lab: Lab, id: string, reconnectPeriod = 0): Promise<SimulatedDevice> {
  const lamp = new SimulatedDevice({
    id,
    spec: specs.get('lumina-slc300')!,
    firmware: '1.0',
    url: lab.gw.mqttUrl,
    secret: lab.secrets.get(id)!,
    intervalMs: 3600_000,
    reconnectPeriod,
    // The gateway's time, so that a command's expiresAt (an hour after the fake now) is not
    // judged against today's date: with the real clock every command came back `expired`
    // once the real day passed the fake night. Timers stay real.
    clock: { ...realClock, now: () => lab.clock.now() },
  });
  lamp.on('command', (c: { name: string; params: { level: number } }) => {
    if (c.name === 'setDimming') lab.heard.get(id)!.push(c.params.level);
  });
  await lamp.start();
  lab.lamps.set(id, lamp);
  return lamp;
}

async function startLab(
  startLocal: string,
  lamps: Array<{ id: string } & typeof HOAN_KIEM>,
  opts: { reconnectPeriod?: number; lightingShift?: { ms: number } } = {},
): Promise<Lab> {
  const clock = new FakeClock(Date.parse(`${startLocal}+07:00`));
  const shift = opts.lightingShift;
  // A wall clock that can be set back: the programs' clock, the gateway's shifted by `shift.ms`.
  const lightingClock: Clock | undefined = shift && {
    now: () => clock.now() + shift.ms,
    setTimeout: (fn, ms) => clock.setTimeout(fn, ms),
    clearTimeout: (h) => clock.clearTimeout(h),
  };
  const gw = await startTestGateway({
    clock,
    lighting: { enabled: true, tickMs: 15_000, clock: lightingClock },
  });
  const lab: Lab = { gw, clock, lamps: new Map(), secrets: new Map(), heard: new Map() };
  labs.push(lab);
  for (const l of lamps) {
    const res = await gw.api('POST', '/api/devices', { ...l, model: 'lumina-slc300', firmware: '1.0' });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    lab.secrets.set(l.id, res.body.secret);
    lab.heard.set(l.id, []);
    await connectLamp(lab, l.id, opts.reconnectPeriod);
  }
  return lab;
}

const openCommands = async (lab: Lab) =>
  (await lab.gw.gateway.commands.service.store.open()).filter(
    (c) => lab.lamps.has(c.deviceId) && lab.lamps.get(c.deviceId)!.connected,
  );

/**
 * Moves the fake clock to a local time 10 s at a time (well inside the 30 s command timeout),
 * letting the lamps answer each command before time moves on.
 */
async function runUntil(lab: Lab, local: string): Promise<void> {
  const target = Date.parse(`${local}+07:00`);
  while (lab.clock.now() < target) {
    lab.clock.advance(Math.min(10_000, target - lab.clock.now()));
    if ((await openCommands(lab)).length)
      await expect.poll(async () => (await openCommands(lab)).length, { timeout: 10_000 }).toBe(0);
  }
}

/** The setDimming commands a lamp was given, as `HH:MM:SS level by`. */
async function commandsOf(lab: Lab, id: string, from = 0): Promise<string[]> {
  return (await lab.gw.gateway.commands.service.store.forDevice(id))
    .filter((c) => c.name === 'setDimming' && c.createdAt >= from)
    .sort((a, b) => a.createdAt - b.createdAt)
    .map((c) => {
      const t = new Date(c.createdAt + 7 * 3600_000).toISOString().slice(11, 19);
      return `${t} ${(c.params as { level: number }).level} ${c.requestedBy}${c.status === 'succeeded' ? '' : ` (${c.status})`}`;
    });
}

const reported = (lab: Lab, id: string) => lab.gw.gateway.ctx.devices.get(id)?.reportedState?.dim_percent;
const hhmmss = (ms: number) => new Date(ms + 7 * 3600_000).toISOString().slice(11, 19);

describe('street-lighting programs on a fake clock', () => {
  it('runs a weekday night of hanoi-standard: each step once, at its time, to every lamp', async () => {
    const lab = await startLab('2026-11-30T10:00:00', [
      { id: 'sl-hk-1', ...HOAN_KIEM },
      { id: 'sl-hk-2', ...HOAN_KIEM, lat: 21.031 },
    ]);
    await runUntil(lab, '2026-12-01T10:00:00');
    const sun = nightSun('2026-11-30', 21.03, 105.85);
    const sunset5 = hhmmss(Math.floor((sun.sunset + 5 * 60_000) / 1000) * 1000);
    const sunrise10 = hhmmss(sun.sunrise - 10 * 60_000);
    for (const id of ['sl-hk-1', 'sl-hk-2']) {
      const cmds = await commandsOf(lab, id);
      // At 10:00 the lamps joined: the previous (Sunday) night's last step, off, is in force.
      expect(cmds[0]).toMatch(/^10:00:\d\d 0 lighting-program$/);
      expect(cmds.slice(1).map((c) => c.replace(/:\d\d /, ' '))).toEqual([
        `${sunset5.slice(0, 5)} 100 lighting-program`,
        '22:30 60 lighting-program',
        '00:30 30 lighting-program',
        `${sunrise10.slice(0, 5)} 0 lighting-program`,
      ]);
      expect(lab.heard.get(id)).toEqual([0, 100, 60, 30, 0]);
      expect(reported(lab, id)).toBe(0);
    }
    const groups = (await lab.gw.api('GET', '/api/lighting/groups')).body;
    const hk = groups.groups.find((g: { id: string }) => g.id === 'hoan-kiem');
    expect(hk.tonight[0]).toMatchObject({ program: 'hanoi-standard', dayType: 'weekday', lamps: 2 });
  }, 120_000);

  it('New Year’s Eve: the festival exception on Hoàn Kiếm lake, the holiday program elsewhere', async () => {
    const lab = await startLab('2026-12-31T12:30:00', [
      { id: 'sl-hk-nye', ...HOAN_KIEM },
      { id: 'sl-bd-nye', ...BA_DINH },
    ]);
    await runUntil(lab, '2027-01-01T08:00:00');
    const strip = async (id: string) =>
      (await commandsOf(lab, id)).slice(1).map((c) => c.replace(/^(\d\d:\d\d):\d\d /, '$1 '));
    expect(await strip('sl-hk-nye')).toEqual([
      expect.stringMatching(/^17:1\d 100 /), // sunset − 10
      '02:00 70 lighting-program',
      expect.stringMatching(/^06:2\d 0 /), // sunrise − 5
    ]);
    expect(await strip('sl-bd-nye')).toEqual([
      expect.stringMatching(/^17:2\d 100 /), // sunset
      '00:00 70 lighting-program',
      '02:00 40 lighting-program',
      expect.stringMatching(/^06:2\d 0 /),
    ]);
    const preview = (await lab.gw.api('GET', '/api/lighting/preview?group=hoan-kiem&date=2026-12-31')).body;
    expect(preview).toMatchObject({
      program: 'hanoi-festival',
      dayType: 'holiday',
      holiday: 'Tết Dương lịch 2027',
    });
  }, 120_000);

  it('an operator override holds for its time, or until the next step, then the program resumes', async () => {
    const lab = await startLab('2026-11-30T19:00:00', [
      { id: 'sl-ov-1', ...HOAN_KIEM },
      { id: 'sl-ov-2', ...HOAN_KIEM },
    ]);
    await runUntil(lab, '2026-11-30T20:00:00');
    const operator = (await lab.gw.api('POST', '/api/tokens', { name: 'night-shift', role: 'operator' })).body
      .token;
    const viewer = (await lab.gw.api('POST', '/api/tokens', { name: 'wall', role: 'viewer' })).body.token;
    const body = {
      group: { ids: ['sl-ov-1'] },
      level: 20,
      minutes: 30,
      reason: 'police incident on Hàng Bạc',
    };
    expect((await lab.gw.api('POST', '/api/lighting/overrides', body, viewer)).status).toBe(403);
    const bad = await lab.gw.api('POST', '/api/lighting/overrides', { ...body, level: 140 }, operator);
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('level');
    const made = await lab.gw.api('POST', '/api/lighting/overrides', body, operator);
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({
      lamps: 1,
      level: 20,
      mode: 'duration',
      until: '2026-11-30T13:30:00.000Z',
    });
    await runUntil(lab, '2026-11-30T22:00:00');
    // Until the next step: 22:30 ends it, and the step's level goes out once.
    const next = await lab.gw.api(
      'POST',
      '/api/lighting/overrides',
      { group: { ids: ['sl-ov-1'] }, level: 100, reason: 'street market' },
      operator,
    );
    expect(next.body).toMatchObject({ mode: 'next_step', until: '2026-11-30T15:30:00.000Z' });
    await runUntil(lab, '2026-11-30T23:00:00');
    const since = localInstant('2026-11-30', 19 * 60 + 30);
    expect(await commandsOf(lab, 'sl-ov-1', since)).toEqual([
      '20:00:00 20 night-shift',
      '20:30:00 100 lighting-program',
      '22:00:00 100 night-shift',
      '22:30:00 60 lighting-program',
    ]);
    expect(await commandsOf(lab, 'sl-ov-2', since)).toEqual(['22:30:00 60 lighting-program']);
    const list = (await lab.gw.api('GET', '/api/lighting/overrides')).body.overrides;
    expect(list.map((o: { endedBy: string }) => o.endedBy)).toEqual(['lighting-program', 'lighting-program']);
  }, 120_000);

  it('an offline lamp reconnecting mid-night gets the level in force, not the steps it missed', async () => {
    const lab = await startLab('2026-11-30T16:00:00', [
      { id: 'sl-off-1', ...HOAN_KIEM },
      { id: 'sl-off-2', ...HOAN_KIEM },
    ]);
    await runUntil(lab, '2026-11-30T16:30:00');
    await lab.lamps.get('sl-off-2')!.stop(100);
    await expect.poll(() => lab.gw.gateway.ctx.devices.get('sl-off-2')?.online).toBe(false);
    lab.heard.set('sl-off-2', []);
    await runUntil(lab, '2026-11-30T23:10:00');
    expect(lab.heard.get('sl-off-2')).toEqual([]);
    const lamp = await connectLamp(lab, 'sl-off-2');
    await expect.poll(() => reported(lab, 'sl-off-2')).toBe(60);
    expect(lab.heard.get('sl-off-2')).toEqual([60]);
    expect(lamp.connected).toBe(true);
    expect(await commandsOf(lab, 'sl-off-2', localInstant('2026-11-30', 17 * 60))).toEqual([
      // Queued while the lamp was away; its hour-long TTL ran out before the 22:30 step came.
      expect.stringMatching(/^17:1\d:\d\d 100 lighting-program \(expired\)$/),
      '22:30:00 60 lighting-program',
    ]);
    const lamps = (await lab.gw.api('GET', '/api/lighting/lamps')).body;
    expect(lamps.notInStep).toBe(0);
  }, 120_000);

  it('a restart at 23:00 does not resend the 22:30 step but reconciles a lamp out of step', async () => {
    const lab = await startLab(
      '2026-11-30T22:00:00',
      [
        { id: 'sl-rs-1', ...HOAN_KIEM },
        { id: 'sl-rs-2', ...HOAN_KIEM },
      ],
      { reconnectPeriod: 100 },
    );
    await runUntil(lab, '2026-11-30T22:45:00');
    // Someone dims one lamp by hand (a plain command, not an override): it is out of step.
    const res = await lab.gw.api('POST', '/api/devices/sl-rs-2/commands', {
      name: 'setDimming',
      params: { level: 90 },
    });
    expect(res.status).toBe(201);
    await runUntil(lab, '2026-11-30T23:00:00');
    await expect.poll(() => reported(lab, 'sl-rs-2')).toBe(90);
    const at = lab.clock.now();
    const { dataDir, gateway } = lab.gw;
    const ports = { MQTT_PORT: gateway.mqttPort };
    await stopDrained(lab.gw, lab.clock, { keepData: true });
    for (const id of ['sl-rs-1', 'sl-rs-2']) lab.heard.set(id, []);
    // The same gateway data, the same clock; the lamps keep their levels and reconnect by themselves.
    lab.gw = await startTestGateway({
      clock: lab.clock,
      dataDir,
      config: ports,
      lighting: { enabled: true, tickMs: 15_000 },
    });
    await expect
      .poll(() => lab.gw.gateway.ctx.devices.get('sl-rs-1')?.online, { timeout: 10_000 })
      .toBe(true);
    await expect
      .poll(() => lab.gw.gateway.ctx.devices.get('sl-rs-2')?.online, { timeout: 10_000 })
      .toBe(true);
    await runUntil(lab, '2026-11-30T23:30:00');
    await expect.poll(() => reported(lab, 'sl-rs-2')).toBe(60);
    expect(await commandsOf(lab, 'sl-rs-1', at)).toEqual([]);
    expect(await commandsOf(lab, 'sl-rs-2', at)).toEqual(['23:00:00 60 lighting-reconciler']);
    expect(lab.heard.get('sl-rs-1')).toEqual([]);
    expect(lab.heard.get('sl-rs-2')).toEqual([60]);
    expect(reported(lab, 'sl-rs-1')).toBe(60);
  }, 120_000);

  it('a clock jump forward sends the step in force, not the ones jumped over', async () => {
    const lab = await startLab('2026-11-30T20:00:00', [{ id: 'sl-jump', ...HOAN_KIEM }]);
    await runUntil(lab, '2026-11-30T21:00:00');
    const before = (await commandsOf(lab, 'sl-jump')).length;
    lab.clock.jump(4 * 3600_000); // 21:00 -> 01:00
    await expect.poll(async () => (await openCommands(lab)).length).toBe(0);
    expect((await commandsOf(lab, 'sl-jump')).slice(before)).toEqual(['01:00:00 30 lighting-program']);
    expect(localClock(lab.clock.now())).toBe('01:00');
    expect(localDate(lab.clock.now())).toBe('2026-12-01');
    await runUntil(lab, '2026-12-01T01:10:00');
    expect((await commandsOf(lab, 'sl-jump')).slice(before)).toEqual(['01:00:00 30 lighting-program']);
    expect(reported(lab, 'sl-jump')).toBe(30);
  }, 120_000);

  it('a clock set back an hour replays nothing; the next step goes out when the program reaches it', async () => {
    const shift = { ms: 0 };
    const lab = await startLab('2026-11-30T22:00:00', [{ id: 'sl-back', ...HOAN_KIEM }], {
      lightingShift: shift,
    });
    await runUntil(lab, '2026-11-30T23:00:00');
    const at = lab.clock.now();
    shift.ms = -3600_000; // the programs' clock now reads 22:00: the 22:30 step is ahead again
    await runUntil(lab, '2026-12-01T01:40:00');
    expect(await commandsOf(lab, 'sl-back', at)).toEqual(['01:30:00 30 lighting-program']);
    expect(lab.heard.get('sl-back')).toEqual([100, 60, 30]);
  }, 120_000);
});
