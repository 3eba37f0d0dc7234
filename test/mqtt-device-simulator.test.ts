import { type AddressInfo, createServer, type Server } from 'node:net';
import { Aedes } from 'aedes';
import { connect, type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { findFirmware, type ModelSpec } from '../firmware-specs/define-device.ts';
import { type Family, familySchemas } from '../firmware-specs/families.ts';
import { loadSpecs } from '../firmware-specs/index.ts';
import { Fleet } from '../simulators/fleet.ts';
import { concreteVersion, placeDevices } from '../simulators/hanoi.ts';
import { SimulatedDevice, type SimulatedDeviceOptions } from '../simulators/mqtt-device.ts';
import { createRng } from '../simulators/patterns.ts';

// A bare broker that checks the CONNECT contract: clientId = username = device id, password = secret.
const secretOf = (id: string) => `secret-of-${id}`;

let broker: Aedes;
let server: Server;
let url: string;
let specs: Map<string, ModelSpec>;
let observer: MqttClient;
const messages: { topic: string; payload: any }[] = [];
const started: SimulatedDevice[] = [];

beforeAll(async () => {
  specs = await loadSpecs();
  broker = await Aedes.createBroker({
    authenticate: (client, username, password, done) =>
      done(null, username === client.id && password?.toString() === secretOf(client.id)),
  });
  server = createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
  observer = connect(url, { clientId: 'observer', username: 'observer', password: secretOf('observer') });
  await observer.subscribeAsync('devices/#', { qos: 1 });
  observer.on('message', (topic, payload) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload.toString());
    } catch {
      parsed = payload.toString();
    }
    messages.push({ topic, payload: parsed });
  });
});

afterEach(async () => {
  await Promise.all(started.splice(0).map((d) => d.stop()));
});

afterAll(async () => {
  await observer?.endAsync();
  await new Promise<void>((resolve) => broker.close(() => resolve()));
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** The first MQTT (non-Modbus) model of a family, by id. */
function firstModel(family: Family): ModelSpec {
  const spec = [...specs.values()]
    .filter((s) => s.family === family && !s.modbus)
    .sort((a, b) => a.id.localeCompare(b.id))[0];
  if (!spec) throw new Error(`no MQTT model of ${family}`);
  return spec;
}

async function startDevice(
  id: string,
  family: Family,
  extra: Partial<SimulatedDeviceOptions> = {},
): Promise<SimulatedDevice> {
  const spec = firstModel(family);
  const firmware = concreteVersion(Object.keys(spec.firmware).at(-1)!, createRng(id));
  const device = new SimulatedDevice({ id, spec, firmware, url, secret: secretOf(id), qos: 1, ...extra });
  started.push(device);
  await device.start();
  return device;
}

async function waitFor<T>(find: () => T | undefined, what: string, timeoutMs = 5000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const message = (topic: string, match: (p: any) => boolean = () => true) =>
  waitFor(() => messages.find((m) => m.topic === topic && match(m.payload))?.payload, topic);

async function command(id: string, commandId: string, body: Record<string, unknown>): Promise<any> {
  await observer.publishAsync(`devices/${id}/commands/${commandId}`, JSON.stringify(body), { qos: 1 });
  return message(`devices/${id}/commands/${commandId}/reply`);
}

describe('a simulated MQTT device', () => {
  it('publishes telemetry in its firmware layout that parses with its model and family schema', async () => {
    const id = 'sl-hoankiem-0001';
    const device = await startDevice(id, 'streetlight', { intervalMs: 100 });
    const fw = findFirmware(device.spec, device.firmwareVersion)!;
    const payload = await message(`devices/${id}/telemetry`);
    expect(typeof payload.ts).toBe('number');
    const { ts, ...raw } = payload;
    expect(Math.abs(ts - Date.now())).toBeLessThan(5000);
    const canonical = fw.telemetry.schema.parse(raw);
    expect(familySchemas.streetlight.safeParse(canonical).success).toBe(true);
    expect(canonical).toHaveProperty('lamp_on');
    await waitFor(() => (device.counters.telemetry >= 3 ? true : undefined), 'three readings');
    const state = await message(`devices/${id}/state`);
    expect(state).toHaveProperty('dim_percent');
    expect(state).toHaveProperty('lamp_on');
  });

  it('obeys setDimming: an ok reply and a state report with dim_percent', async () => {
    const id = 'sl-hoankiem-0002';
    await startDevice(id, 'streetlight', { intervalMs: 60_000 });
    const reply = await command(id, 'c1', {
      name: 'setDimming',
      params: { level: 40 },
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
    });
    expect(reply).toEqual({ ok: true, result: expect.objectContaining({ dim_percent: 40, lamp_on: true }) });
    await message(`devices/${id}/state`, (s) => s.dim_percent === 40 && s.lamp_on === true);
  });

  it('refuses an unknown command, bad params, an expired command and a failing one', async () => {
    const id = 'sl-badinh-0001';
    await startDevice(id, 'streetlight', { failCommands: ['switchLamp'] });
    const unknown = await command(id, 'c2', { name: 'launchRocket', params: {} });
    expect(unknown.ok).toBe(false);
    expect(unknown.error).toMatch(/unknown command/);
    const bad = await command(id, 'c3', { name: 'setDimming', params: { level: 140 } });
    expect(bad.ok).toBe(false);
    expect(bad.error).toMatch(/level/);
    const expired = await command(id, 'c4', {
      name: 'setDimming',
      params: { level: 10 },
      expiresAt: new Date(Date.now() - 1000).toISOString(),
    });
    expect(expired).toEqual({ ok: false, error: 'expired' });
    const failing = await command(id, 'c5', { name: 'switchLamp', params: { on: false } });
    expect(failing.ok).toBe(false);
  });

  it('moves a valve gradually, then reports it', async () => {
    const id = 'ws-longbien-0001';
    const device = await startDevice(id, 'water_station', { valveTravelMs: 400, valveStepMs: 50 });
    const sentAt = Date.now();
    const reply = await command(id, 'v1', { name: 'setValve', params: { percent: 20 } });
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(250); // 80 % of a 400 ms stroke
    expect(reply).toEqual({ ok: true, result: expect.objectContaining({ valve_percent: 20 }) });
    expect(device.pattern.reported().valve_percent).toBe(20);
    await message(`devices/${id}/state`, (s) => s.valve_percent === 20);
  });

  it('changes its report interval and reads on demand', async () => {
    const aq = await startDevice('aq-caugiay-0001', 'air_quality', { intervalMs: 60_000 });
    const setInterval = firstModel('air_quality').commands.setReportInterval;
    if (setInterval) {
      const reply = await command(aq.id, 'i1', { name: 'setReportInterval', params: { seconds: 30 } });
      expect(reply).toEqual({ ok: true, result: expect.objectContaining({ report_interval_seconds: 30 }) });
      expect(aq.reportIntervalMs).toBe(30_000);
    }
    const meter = await startDevice('em-dongda-0001', 'electricity_meter', { intervalMs: 60_000 });
    const before = meter.counters.telemetry;
    const reply = await command(meter.id, 'r1', { name: 'readNow', params: {} });
    expect(reply.ok).toBe(true);
    expect(reply.result).toHaveProperty('energy_kwh');
    await waitFor(() => (meter.counters.telemetry > before ? true : undefined), 'a reading on demand');
  });

  it('answers late, or never, when told to misbehave', async () => {
    const late = await startDevice('sl-tayho-0001', 'streetlight', { replyDelayMs: 300 });
    const sentAt = Date.now();
    await command(late.id, 'd1', { name: 'setDimming', params: { level: 70 } });
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(250);
    const mute = await startDevice('sl-tayho-0002', 'streetlight', { neverReply: true });
    await observer.publishAsync(
      `devices/${mute.id}/commands/n1`,
      JSON.stringify({ name: 'setDimming', params: { level: 20 } }),
      { qos: 1 },
    );
    await message(`devices/${mute.id}/state`, (s) => s.dim_percent === 20);
    expect(messages.some((m) => m.topic === `devices/${mute.id}/commands/n1/reply`)).toBe(false);
  });

  it('runs on an injected clock: readings follow its timers and carry its time', async () => {
    let now = Date.parse('2026-03-01T22:00:00+07:00');
    const timers: { at: number; fn: () => void }[] = [];
    const clock = {
      now: () => now,
      setTimeout: (fn: () => void, ms: number) => {
        const t = { at: now + ms, fn };
        timers.push(t);
        return t;
      },
      clearTimeout: (t: unknown) => {
        const i = timers.indexOf(t as (typeof timers)[number]);
        if (i >= 0) timers.splice(i, 1);
      },
    };
    const device = await startDevice('sl-sontay-0001', 'streetlight', { clock, intervalMs: 600_000 });
    const first = await message(`devices/${device.id}/telemetry`);
    expect(first.ts).toBe(now);
    for (let i = 0; i < 3; i++) {
      now += 600_000;
      for (const t of timers.filter((x) => x.at <= now)) {
        timers.splice(timers.indexOf(t), 1);
        t.fn();
      }
    }
    // Wait for the subscriber to hear them, not for the device to have sent them: the broker
    // delivers after the device's counter moved.
    const telemetry = () => messages.filter((m) => m.topic === `devices/${device.id}/telemetry`);
    await waitFor(() => (telemetry().length >= 4 ? true : undefined), 'four readings heard');
    const stamps = telemetry().map((m) => m.payload.ts);
    expect(stamps).toEqual([now - 1_800_000, now - 1_200_000, now - 600_000, now]);
  });

  it('is refused with a wrong secret', async () => {
    const spec = firstModel('streetlight');
    const device = new SimulatedDevice({
      id: 'sl-hadong-0009',
      spec,
      firmware: concreteVersion(Object.keys(spec.firmware)[0], createRng(1)),
      url,
      secret: 'wrong',
    });
    started.push(device);
    await expect(device.start()).rejects.toThrow(/Bad username or password|Not authorized/);
  });
});

describe('a fleet', () => {
  it('connects its devices at a bounded rate and adds up their counters', async () => {
    const streetlightOnly = { streetlight: 12 };
    const plans = placeDevices({ perFamily: streetlightOnly, seed: 'fleet' }, specs);
    const fleet = new Fleet({
      url,
      plans,
      specs,
      secrets: secretOf,
      connectsPerSecond: 40,
      device: { intervalMs: 200, qos: 1 },
    });
    const startedAt = Date.now();
    const result = await fleet.start();
    try {
      expect(result).toEqual({ connected: 12, failed: [] });
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(200); // 12 at 40/s
      await waitFor(() => (fleet.counters().telemetry >= 24 ? true : undefined), 'fleet telemetry');
      const counters = fleet.counters();
      expect(counters.devices).toBe(12);
      expect(counters.online).toBe(12);
      for (const plan of plans) {
        await message(`devices/${plan.id}/telemetry`);
      }
    } finally {
      await fleet.stop();
    }
    expect(fleet.counters().online).toBe(0);
  });
});
