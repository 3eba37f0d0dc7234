import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ModbusConnection } from '../adapters/modbus/connection.ts';
import type { ModbusAdapterOptions } from '../adapters/modbus/modbus-adapter.ts';
import { modbusModule } from '../adapters/modbus/modbus-module.ts';
import type { Device } from '../device-registry/devices.ts';
import type { ModelSpec } from '../firmware-specs/define-device.ts';
import { loadSpecs } from '../firmware-specs/index.ts';
import type { Clock } from '../gateway/clock.ts';
import { createLogger } from '../gateway/logger.ts';
import { ModbusDeviceSimulator } from '../simulators/modbus-device.ts';
import { adapterContract } from './adapter-contract.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { exportSeries as exportSeriesFrom, freePort } from './helpers/victoria.ts';
import { eventually } from './helpers/wait.ts';

// Fast enough for a test, with the production structure: timeouts, backoff, offline after 2.
const FAST: ModbusAdapterOptions = {
  pollIntervalMs: 200,
  requestTimeoutMs: 400,
  connectTimeoutMs: 1000,
  reconnect: { initialMs: 100, maxMs: 400 },
  maxPollBackoffMs: 400,
  offlineAfterFailures: 2,
};

// The values each simulated unit holds: its model's own example reading (a Modbus layout is canonical).
const specsAtLoad = await loadSpecs();
const METER = specsAtLoad.get('sonmetrix-smx630')!.firmware['1.x'].example as Record<
  string,
  number | boolean
>;
const STATION = specsAtLoad.get('hydrotek-ps500')!.firmware['3.x'].example as Record<
  string,
  number | boolean
>;

const vmUrl = () => inject('victoriaUrl');
let specs: ReadonlyMap<string, ModelSpec>;
let seq = 0;
const uid = (prefix: string) => `${prefix}-${process.pid}-${Date.now()}-${++seq}`;

const exportSeries = (selector: string) => exportSeriesFrom(vmUrl(), selector);

async function setup(units: Array<{ unitId: number; model: string }>) {
  specs ??= await loadSpecs();
  const sim = new ModbusDeviceSimulator({
    units: units.map((u) => ({ unitId: u.unitId, spec: specs.get(u.model)! })),
    updateMs: 100,
  });
  await sim.start();
  const module = modbusModule(FAST);
  const gw = await startTestGateway({ influxUrl: vmUrl(), modules: [module] });
  const register = async (model: string, firmware: string, unitId: number, ward = 'Hàng Bạc') => {
    const { id } = await gw.register({
      id: uid(model),
      model,
      firmware,
      district: 'Hoàn Kiếm',
      ward,
      modbus: { host: sim.host, port: sim.port, unitId },
    });
    return gw.gateway.ctx.devices.get(id)!;
  };
  return { sim, module, gw, register };
}

const status = async (gw: TestGateway, id: string) => (await gw.api('GET', `/api/devices/${id}`)).body.status;

adapterContract('modbus', async () => {
  const { sim, module, gw, register } = await setup(
    [1, 2, 3].map((unitId) => ({ unitId, model: 'sonmetrix-smx630' })),
  );
  let unit = 0;
  return {
    adapter: module.adapter,
    context: { ...gw.gateway.ctx, log: gw.gateway.ctx.log.child({ module: 'modbus' }) },
    registerServed: () => register('sonmetrix-smx630', '1.0.0', ++unit),
    async registerForeign() {
      const { id } = await gw.register({ id: uid('sl'), model: 'lumina-slc300', firmware: '1.0.0' });
      return gw.gateway.ctx.devices.get(id)!;
    },
    async disable(id) {
      await gw.api('PATCH', `/api/devices/${id}`, { enabled: false });
    },
    async close() {
      await gw.stop();
      await sim.stop();
    },
  };
});

describe('Modbus devices through the gateway: one TCP address, two unit ids', () => {
  let env: Awaited<ReturnType<typeof setup>>;
  let meter: Device;
  let station: Device;
  beforeAll(async () => {
    env = await setup([
      { unitId: 1, model: 'sonmetrix-smx630' },
      { unitId: 2, model: 'hydrotek-ps500' },
    ]);
    env.sim.unit(1).set(METER);
    env.sim.unit(2).set(STATION);
    meter = await env.register('sonmetrix-smx630', '2.1.0', 1, 'Hàng Trống');
    station = await env.register('hydrotek-ps500', '3.2.0', 2);
  });
  afterAll(async () => {
    await env?.gw.stop();
    await env?.sim.stop();
  });

  it('stores the decoded registers of both units with the registry tags', async () => {
    const series = await eventually(
      async () => [
        ...(await exportSeries(`{__name__=~"electricity_meter_.*",device_id="${meter.id}"}`)),
        ...(await exportSeries(`{__name__=~"water_station_.*",device_id="${station.id}"}`)),
      ],
      (s) => s.length >= 14,
    );
    const byName = Object.fromEntries(series.map((s) => [s.metric.__name__, s]));
    for (const [field, value] of Object.entries(METER)) {
      expect(byName[`electricity_meter_${field}`].values.at(-1), field).toBe(Number(value));
    }
    for (const [field, value] of Object.entries(STATION)) {
      expect(byName[`water_station_${field}`].values.at(-1), field).toBe(value);
    }
    expect(byName.electricity_meter_voltage_v.metric).toMatchObject({
      device_id: meter.id,
      family: 'electricity_meter',
      model: 'sonmetrix-smx630',
      firmware: '2.1.0',
      district: 'Hoàn Kiếm',
      ward: 'Hàng Trống',
    });
    expect(byName.water_station_ph.metric).toMatchObject({ device_id: station.id, model: 'hydrotek-ps500' });
    const view = (await env.gw.api('GET', `/api/devices/${meter.id}`)).body;
    expect(view).toMatchObject({ status: 'online', lastReading: METER });
  });

  it('writes a set point (FC 06), reports delivery, and succeeds after the read-back', async () => {
    let delivered = 0;
    const cmd = { id: uid('cmd'), name: 'setValve', params: { percent: 42.5 } };
    const result = await env.module.adapter.execute(station, cmd, () => delivered++);
    expect(result).toEqual({ ok: true, result: { valve_percent: 42.5 } });
    expect(delivered).toBe(1);
    expect(env.sim.unit(2).tables.holding.readUInt16BE(100 * 2)).toBe(425); // tenths of a percent
    const view = await eventually(
      async () => (await env.gw.api('GET', `/api/devices/${station.id}`)).body,
      (v) => v.lastReading?.valve_percent === 42.5,
    );
    expect(view.lastReading.valve_percent).toBe(42.5);
  });

  it('switches a relay coil (FC 05) and reads it back', async () => {
    const cmd = { id: uid('cmd'), name: 'setRelay', params: { closed: false } };
    const result = await env.module.adapter.execute(meter, cmd, () => {});
    expect(result).toEqual({ ok: true, result: { relay_closed: false } });
    expect(env.sim.unit(1).getBit('coil', 0)).toBe(false);
    await env.module.adapter.execute(meter, { ...cmd, params: { closed: true } }, () => {});
    expect(env.sim.unit(1).getBit('coil', 0)).toBe(true);
  });

  it('answers readNow with a fresh reading', async () => {
    const result = await env.module.adapter.execute(
      meter,
      { id: uid('cmd'), name: 'readNow', params: {} },
      () => {},
    );
    expect(result).toEqual({ ok: true, result: METER });
  });

  it('fails a write the device refuses with the Modbus exception, without delivery', async () => {
    const undo = env.sim.unit(2).failOn({ table: 'holding', address: 100, code: 2, access: 'write' });
    let delivered = 0;
    const cmd = { id: uid('cmd'), name: 'setValve', params: { percent: 60 } };
    const result = await env.module.adapter.execute(station, cmd, () => delivered++);
    undo();
    expect(result.ok).toBe(false);
    expect(result.ok === false && result.error).toContain('Modbus exception 2 (illegal data address)');
    expect(delivered).toBe(0);
    expect(env.sim.unit(2).reading().valve_percent).toBe(42.5);
    expect(await status(env.gw, station.id)).toBe('online');
  });

  it('fails a write the read-back contradicts, naming both values', async () => {
    env.sim.unit(2).ignoreWrites = true; // acknowledged, but the station is in local control
    const cmd = { id: uid('cmd'), name: 'setValve', params: { percent: 60 } };
    let delivered = 0;
    const result = await env.module.adapter.execute(station, cmd, () => delivered++);
    env.sim.unit(2).ignoreWrites = false;
    expect(result).toEqual({ ok: false, error: 'Read-back of holding 100 gave 42.5, expected 60' });
    expect(delivered).toBe(1);
  });

  it('marks a unit that answers too late offline while its neighbour on the bus stays online', async () => {
    const lastReadingAt = async () =>
      Date.parse((await env.gw.api('GET', `/api/devices/${meter.id}`)).body.lastReadingAt ?? 0);
    expect(await eventually(lastReadingAt, (t) => t > 0)).toBeGreaterThan(0);
    env.sim.unit(2).delayMs = 600; // past the 400 ms timeout: every answer is a late reply
    expect(
      await eventually(
        () => status(env.gw, station.id),
        (s) => s === 'offline',
      ),
    ).toBe('offline');
    const before = await lastReadingAt();
    expect(await eventually(lastReadingAt, (t) => t > before)).toBeGreaterThan(before);
    expect(await status(env.gw, meter.id)).toBe('online');
    env.sim.unit(2).delayMs = 0;
    expect(
      await eventually(
        () => status(env.gw, station.id),
        (s) => s === 'online',
      ),
    ).toBe('online');
    expect(env.module.adapter.stats().timeouts).toBeGreaterThan(0);
  });

  it('shows both devices offline when the server goes away, and resumes polling when it returns', async () => {
    await env.sim.stop();
    for (const d of [meter, station])
      expect(
        await eventually(
          () => status(env.gw, d.id),
          (s) => s === 'offline',
        ),
      ).toBe('offline');
    expect((await env.gw.api('GET', '/healthz')).status).toBe(200);
    const before = (await env.gw.api('GET', `/api/devices/${meter.id}`)).body.lastReadingAt;
    await env.sim.start();
    for (const d of [meter, station])
      expect(
        await eventually(
          () => status(env.gw, d.id),
          (s) => s === 'online',
        ),
      ).toBe('online');
    const after = await eventually(
      async () => (await env.gw.api('GET', `/api/devices/${meter.id}`)).body.lastReadingAt,
      (t) => t > before,
    );
    expect(after > before).toBe(true);
  });

  it('counts polls, exceptions and timeouts on /metrics', async () => {
    const res = await fetch(`${env.gw.httpUrl}/metrics`, {
      headers: { authorization: `Bearer ${env.gw.admin}` },
    });
    const text = await res.text();
    for (const kind of ['polls', 'exceptions', 'timeouts', 'writes'])
      expect(text).toMatch(new RegExp(`citygate_modbus_events_total\\{kind="${kind}"\\} [1-9]`));
  });

  it('polls a device registered at run time and stops polling it once disabled', async () => {
    const later = await env.register('sonmetrix-smx630', '1.0.0', 1, 'Hàng Bạc');
    expect(
      await eventually(
        () => status(env.gw, later.id),
        (s) => s === 'online',
      ),
    ).toBe('online');
    await env.gw.api('PATCH', `/api/devices/${later.id}`, { enabled: false });
    expect(env.module.adapter.servedDevices()).not.toContain(later.id);
    expect(await status(env.gw, later.id)).toBe('disabled');
  });
});

describe('a Modbus connection whose peer is unreachable (injected clock)', () => {
  it('retries at once, then doubles its wait up to the maximum, failing requests fast meanwhile', async () => {
    const timers = new Set<{ fn: () => void; ms: number }>();
    const clock: Clock = {
      now: () => 0,
      setTimeout: (fn, ms) => {
        const t = { fn, ms };
        timers.add(t);
        return t;
      },
      clearTimeout: (t) => timers.delete(t as { fn: () => void; ms: number }),
    };
    const waits = () => [...timers].filter((t) => t.ms !== 60_000); // not the connect timers
    let downs = 0;
    const conn = new ModbusConnection({
      host: '127.0.0.1',
      port: await freePort(), // nobody listens: refused at once
      clock,
      log: createLogger('silent'),
      requestTimeoutMs: 100,
      connectTimeoutMs: 60_000,
      reconnect: { initialMs: 100, maxMs: 400 },
      onDown: () => downs++,
    });
    const read = () => conn.request(1, (c) => c.readHoldingRegisters(0, 1));
    await expect(read()).rejects.toMatchObject({ code: 'MB_ERR_NOT_CONNECTED' });
    const seen: number[] = [];
    for (let i = 0; i < 4; i++) {
      await eventually(
        () => conn.state,
        (s) => s === 'waiting',
        5000,
      );
      await expect(read()).rejects.toMatchObject({ code: 'MB_ERR_NOT_CONNECTED' }); // at once
      const [wait] = waits();
      seen.push(wait.ms);
      timers.delete(wait);
      wait.fn();
    }
    await eventually(
      () => conn.state,
      (s) => s === 'waiting',
      5000,
    );
    conn.close();
    // The first retry was immediate (not a wait), then 100, 200, 400, capped at 400.
    expect(seen).toEqual([100, 200, 400, 400]);
    expect(downs).toBe(6);
    await expect(read()).rejects.toMatchObject({ code: 'MB_ERR_CLOSED' });
  });
});

const mbpoll = promisify(execFile);
const hasMbpoll = await mbpoll('mbpoll', ['-h']).then(
  () => true,
  (err) => err.code !== 'ENOENT',
);

describe.skipIf(!hasMbpoll)("the simulator as a third-party master (Debian's mbpoll) sees it", () => {
  let sim: ModbusDeviceSimulator;
  beforeAll(async () => {
    specs ??= await loadSpecs();
    sim = new ModbusDeviceSimulator({
      units: [
        { unitId: 1, spec: specs.get('sonmetrix-smx630')! },
        { unitId: 2, spec: specs.get('hydrotek-ps500')! },
      ],
    });
    await sim.start();
    sim.unit(1).set(METER);
  });
  afterAll(async () => sim?.stop());
  // mbpoll [options] host [values to write]; -0: 0-based addresses, -1: one poll.
  const run = (args: string[], writes: string[] = []) =>
    mbpoll('mbpoll', ['-m', 'tcp', '-p', String(sim.port), '-0', '-1', ...args, sim.host, ...writes]).then(
      (r) => r.stdout,
    );

  it('reads a big-endian float32 input register of unit 1', async () => {
    expect(await run(['-a', '1', '-t', '3:float', '-B', '-r', '42', '-c', '1'])).toMatch(
      /\[42\]:\s+229\.8\b/,
    );
  });

  it('writes the valve set point of unit 2', async () => {
    await run(['-a', '2', '-t', '4', '-r', '100'], ['555']);
    expect(sim.unit(2).reading().valve_percent).toBe(55.5);
    expect(await run(['-a', '2', '-t', '4', '-r', '100', '-c', '1'])).toMatch(/\[100\]:\s+555\b/);
  });

  it('gets exception 11 for a unit id nobody answers to', async () => {
    await expect(run(['-a', '9', '-t', '4', '-r', '100', '-c', '1'])).rejects.toMatchObject({
      stderr: expect.stringMatching(/Target device failed to respond/),
    });
  });
});
