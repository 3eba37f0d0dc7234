import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeBit, encodeRegisters } from '../adapters/modbus/register-codec.ts';
import { readNow, setRelay, setValve } from '../firmware-specs/commands.ts';
import {
  type DeviceSpec,
  findFirmware,
  firmwarePatternsOverlap,
  type ModbusMap,
  registerWords,
  validateSpec,
} from '../firmware-specs/define-device.ts';
import { FAMILIES, familySchemas, stateFieldsOf } from '../firmware-specs/families.ts';
import { loadSpecs, SpecError } from '../firmware-specs/index.ts';
import { modbusLayout } from '../firmware-specs/modbus-layout.ts';

const specs = await loadSpecs();
const all = [...specs.values()];
const modbusSpecs = all.filter((s) => s.modbus);

const normalize = (id: string, firmware: string, raw: unknown) =>
  findFirmware(specs.get(id)!, firmware)!.telemetry.schema.parse(raw);

describe('the spec set', () => {
  it('has unique vendor and model pairs', () => {
    const pairs = all.map((s) => `${s.vendor}/${s.model}`.toLowerCase());
    expect(new Set(pairs).size).toBe(pairs.length);
  });

  it('has at least two models per family', () => {
    for (const family of FAMILIES) {
      expect(all.filter((s) => s.family === family).length, family).toBeGreaterThanOrEqual(2);
    }
  });

  it('has at least two Modbus models, a meter and a water station among them', () => {
    expect(modbusSpecs.map((s) => s.family).sort()).toEqual(
      expect.arrayContaining(['electricity_meter', 'water_station']),
    );
  });
});

describe.each(all.map((s) => [s.id, s] as const))('spec %s', (_id, spec) => {
  it('passes validateSpec', () => {
    expect(validateSpec(spec)).toEqual([]);
  });

  it('has firmware ranges that do not overlap, each version picking one firmware', () => {
    const patterns = Object.keys(spec.firmware);
    for (const [i, a] of patterns.entries()) {
      for (const b of patterns.slice(i + 1)) expect(firmwarePatternsOverlap(a, b), `${a} ${b}`).toBe(false);
      const version = a.replace(/\.x$/, '.0.1');
      expect(findFirmware(spec, version)).toBe(spec.firmware[a]);
    }
  });

  describe.each(Object.entries(spec.firmware))('firmware %s', (_pattern, fw) => {
    it('normalizes its example into a valid family reading of canonical fields only', () => {
      const reading = fw.telemetry.schema.parse(fw.example);
      expect(familySchemas[spec.family].strict().safeParse(reading).success).toBe(true);
      expect(Object.keys(reading).length).toBeGreaterThan(0);
    });

    it('encodes a decoded example back to a payload that decodes the same', () => {
      const reading = fw.telemetry.schema.parse(fw.example);
      const raw = fw.telemetry.encode(reading);
      expect(fw.telemetry.schema.parse(raw)).toEqual(reading);
    });
  });

  describe.each(Object.entries(spec.commands))('command %s', (_name, cmd) => {
    it('accepts its example and rejects its bad example', () => {
      expect(cmd.params.safeParse(cmd.example).success).toBe(true);
      expect(cmd.params.safeParse(cmd.badExample).success).toBe(false);
    });

    it('asks, when it sets state, only for canonical fields and declared settings', () => {
      if (!cmd.desired) return;
      const desired = cmd.desired(cmd.params.parse(cmd.example));
      for (const field of Object.keys(desired)) expect(stateFieldsOf(spec.family)).toContain(field);
    });
  });
});

describe.each(modbusSpecs.map((s) => [s.id, s] as const))('Modbus spec %s', (_id, spec) => {
  const map = spec.modbus!;

  it('has no two fields sharing a register', () => {
    const used = new Map<string, string>();
    for (const [field, def] of Object.entries(map.registers)) {
      const width = def.type === 'bool' ? 1 : registerWords(def.type);
      for (let a = def.address; a < def.address + width; a++) {
        const key = `${def.table}:${a}`;
        expect(used.get(key), `${field} at ${key}`).toBeUndefined();
        used.set(key, field);
      }
    }
  });

  it('puts bits in coils or discrete inputs and words in holding or input registers, in range', () => {
    for (const [field, def] of Object.entries(map.registers)) {
      const bitTable = def.table === 'coil' || def.table === 'discrete';
      expect(bitTable, field).toBe(def.type === 'bool');
      const width = bitTable ? 1 : registerWords(def.type);
      expect(Number.isInteger(def.address) && def.address >= 0 && def.address + width <= 65536, field).toBe(
        true,
      );
    }
  });

  it('describes, in every firmware, exactly the fields of its register map', () => {
    for (const fw of Object.values(spec.firmware)) {
      expect(Object.values(fw.telemetry.fields).sort()).toEqual(Object.keys(map.registers).sort());
    }
  });

  it('has examples that fit their registers exactly', () => {
    for (const fw of Object.values(spec.firmware)) {
      for (const [field, value] of Object.entries(fw.example)) {
        const def = map.registers[field];
        if (def.type === 'bool') continue;
        const words = encodeRegisters(value as number, def, map.order);
        expect(words.length).toBe(registerWords(def.type));
      }
    }
  });

  it('writes its commands to writable registers with values they can hold', () => {
    for (const cmd of Object.values(spec.commands)) {
      if (!cmd.modbus) continue;
      const { register, value } = cmd.modbus;
      expect(['coil', 'holding']).toContain(register.table);
      const v = value(cmd.params.parse(cmd.example));
      if (register.type === 'bool') expect(typeof encodeBit(v as boolean)).toBe('boolean');
      else
        expect(encodeRegisters(v as number, register, map.order).length).toBe(registerWords(register.type));
    }
  });
});

describe('normalization', () => {
  it('turns the EM-310 integer Wh counter into kWh and decivolts into volts', () => {
    expect(
      normalize('vinasmart-em310', '1.4.2', {
        wh: 12345678,
        w: 1520,
        dv: 2301,
        a: 6.61,
        pf: 0.96,
        chz: 5001,
        rly: 1,
      }),
    ).toEqual({
      energy_kwh: 12345.678,
      power_w: 1520,
      voltage_v: 230.1,
      current_a: 6.61,
      power_factor: 0.96,
      frequency_hz: 50.01,
      relay_closed: true,
    });
  });

  it('takes the MK-1P float kWh as it is and its kW as W', () => {
    const r = normalize('mekong-mk1p', '3.2.0', {
      kwh: 8421.37,
      p_kw: 2.35,
      u: 228.7,
      i: 10.4,
      cosphi: 0.97,
      f: 49.98,
      relay: false,
    });
    expect(r).toMatchObject({ energy_kwh: 8421.37, power_w: 2350, relay_closed: false });
  });

  it('turns the WS-200 kPa into bar, L/s into m3/h and litres into m3', () => {
    expect(
      normalize('aquanet-ws200', '1.0.7', {
        q_ls: 12.5,
        p_kpa: 315,
        vol_l: 48213570,
        ntu: 0.42,
        cl: 0.55,
        ph: 7.2,
        valve: 80,
      }),
    ).toEqual({
      flow_m3h: 45,
      pressure_bar: 3.15,
      total_volume_m3: 48213.57,
      turbidity_ntu: 0.42,
      chlorine_mgl: 0.55,
      ph: 7.2,
      valve_percent: 80,
    });
  });

  it('accepts a WS-200 2.x station without a quality probe', () => {
    const r = normalize('aquanet-ws200', '2.1.0', {
      hyd: { q_m3h: 45.2, p_kpa: 250, vol_m3: 1000 },
      valve: { pos: 0 },
    });
    expect(r).toEqual({ flow_m3h: 45.2, pressure_bar: 2.5, total_volume_m3: 1000, valve_percent: 0 });
  });

  it('turns the AQ-5 CO in ppb into mg/m3 and its offset temperature into °C', () => {
    const r = normalize('airviet-aq5', '1.9.0', {
      pm25: 38.2,
      pm10: 61.5,
      no2: 42,
      o3: 55.3,
      co_ppb: 1000,
      so2: 8.1,
      t_dk: 352,
      rh: 78.5,
    });
    expect(r).toMatchObject({ co_mgm3: 1.145, temperature_c: -4.8 });
  });

  it('turns the AQM-900 mixing ratios into mass concentrations', () => {
    const r = normalize('senvn-aqm900', '1.2.3', {
      PM2_5: 41,
      PM10: 70,
      NO2_PPB: 100,
      O3_PPB: 100,
      CO_PPM: 1,
      SO2_PPB: 100,
      TEMP: 29.4,
      RH: 81,
    });
    expect(r).toMatchObject({ no2_ugm3: 188, o3_ugm3: 196, co_mgm3: 1.145, so2_ugm3: 262 });
  });

  it('reads the NC-20 dimming in per mille and burn time in minutes, and 2.x without an alarm block', () => {
    expect(
      normalize('dragonlight-nc20', '1.0.0', { lamp: 0, lvl_pm: 455, pw: 0, lux: 120, burn_min: 90 }),
    ).toEqual({ lamp_on: false, dim_percent: 45.5, lamp_power_w: 0, ambient_lux: 120, burn_hours: 1.5 });
    expect(
      normalize('dragonlight-nc20', '2.0.3', {
        status: { lamp: 'OFF', dim: 0 },
        metering: { w: 0, lux: 150, burn_h: 12 },
      }),
    ).not.toHaveProperty('fault_code');
  });

  it('refuses payloads the firmware cannot send', () => {
    const fw = findFirmware(specs.get('vinasmart-em310')!, '1.0.0')!;
    expect(fw.telemetry.schema.safeParse({ ...fw.example, wh: 12.5 }).success).toBe(false);
    expect(fw.telemetry.schema.safeParse({ ...fw.example, rly: 2 }).success).toBe(false);
    const ws = findFirmware(specs.get('aquanet-ws200')!, '1.0.0')!;
    expect(ws.telemetry.schema.safeParse({ ...ws.example, vol_l: -1 }).success).toBe(false);
  });

  it('passes a Modbus reading through as the adapter decoded it', () => {
    expect(
      normalize('hydrotek-ps500', '3.1.0', {
        flow_m3h: 0,
        pressure_bar: 0.5,
        total_volume_m3: 10,
        turbidity_ntu: 0,
        chlorine_mgl: 0,
        ph: 7,
        valve_percent: 0,
        extra: 'ignored',
      }),
    ).toEqual({
      flow_m3h: 0,
      pressure_bar: 0.5,
      total_volume_m3: 10,
      turbidity_ntu: 0,
      chlorine_mgl: 0,
      ph: 7,
      valve_percent: 0,
    });
  });
});

describe('modbusLayout', () => {
  const map: ModbusMap = {
    order: 'ABCD',
    pollIntervalMs: 1000,
    registers: {
      voltage_v: { table: 'input', address: 0, type: 'float32' },
      energy_kwh: { table: 'input', address: 2, type: 'uint32', scale: 0.001 },
      relay_closed: { table: 'coil', address: 0, type: 'bool' },
    },
  };

  it('checks booleans as booleans and numbers as numbers, all fields required', () => {
    const l = modbusLayout(map);
    expect(l.schema.parse({ voltage_v: 230, energy_kwh: 1.5, relay_closed: false })).toEqual({
      voltage_v: 230,
      energy_kwh: 1.5,
      relay_closed: false,
    });
    expect(l.schema.safeParse({ voltage_v: 230, energy_kwh: 1.5, relay_closed: 1 }).success).toBe(false);
    expect(l.schema.safeParse({ voltage_v: 230, relay_closed: true }).success).toBe(false);
  });
});

describe('validateSpec catches a broken spec', () => {
  const good = specs.get('vinasmart-em310')!;
  const fw = good.firmware['1.x'];

  it('with overlapping firmware ranges', () => {
    const spec = { ...good, firmware: { '1.x': fw, '1.2.x': fw } };
    expect(validateSpec(spec)).toContainEqual(expect.stringMatching(/"1.x" and "1.2.x" overlap/));
  });

  it('with an example its own schema refuses', () => {
    const spec = { ...good, firmware: { '1.x': { ...fw, example: { ...fw.example, wh: 'lots' } } } };
    expect(validateSpec(spec)).toContainEqual(
      expect.stringMatching(/firmware "1.x": example does not match/),
    );
  });

  it('with an example that normalizes outside the family schema', () => {
    const spec = { ...good, firmware: { '1.x': { ...fw, example: { ...fw.example, dv: 20000 } } } };
    expect(validateSpec(spec)).toContainEqual(expect.stringMatching(/not a valid electricity_meter reading/));
  });

  it('with a command that accepts its bad example', () => {
    const spec = {
      ...good,
      commands: { ...good.commands, setRelay: { ...setRelay(), badExample: { closed: true } } },
    };
    expect(validateSpec(spec)).toContain('command setRelay: badExample is accepted');
  });

  const meter = specs.get('sonmetrix-smx630')!;
  const withRegisters = (registers: ModbusMap['registers']): DeviceSpec => ({
    ...meter,
    modbus: { ...meter.modbus!, registers: { ...meter.modbus!.registers, ...registers } },
  });

  it('with overlapping registers', () => {
    // current_a is a float32 at 0x30-0x31; a power at 0x31 overlaps its second word.
    const spec = withRegisters({ power_w: { table: 'input', address: 0x31, type: 'float32' } });
    expect(validateSpec(spec)).toContainEqual(
      expect.stringMatching(/modbus power_w: input 49 already holds current_a/),
    );
  });

  it('with a register that does not fit its table or the address space', () => {
    expect(
      validateSpec(withRegisters({ relay_closed: { table: 'coil', address: 0, type: 'uint16' } })),
    ).toContainEqual(expect.stringMatching(/type uint16 does not fit coil/));
    expect(
      validateSpec(withRegisters({ energy_kwh: { table: 'input', address: 65534, type: 'uint64' } })),
    ).toContainEqual(expect.stringMatching(/energy_kwh: address out of range/));
  });

  it('with a Modbus write to a read-only table', () => {
    const spec = {
      ...meter,
      commands: {
        readNow: readNow(),
        setRelay: setRelay({ register: { table: 'discrete', address: 0, type: 'bool' }, value: () => true }),
      },
    };
    expect(validateSpec(spec)).toContainEqual(expect.stringMatching(/must target a coil or holding/));
  });

  it('with a Modbus state command that has no write', () => {
    const station = specs.get('hydrotek-ps500')!;
    expect(validateSpec({ ...station, commands: { setValve: setValve() } })).toContainEqual(
      expect.stringMatching(/setValve: a Modbus model's state command needs a modbus write/),
    );
  });
});

describe('loadSpecs on a broken spec directory', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const here = (rel: string) => fileURLToPath(new URL(rel, import.meta.url));
  const specDir = (files: Record<string, string>) => {
    const dir = mkdtempSync(join(tmpdir(), 'citygate-specs-'));
    dirs.push(dir);
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    return dir;
  };
  const header = `
import { defineDevice } from ${JSON.stringify(here('../firmware-specs/define-device.ts'))};
import { layout, numeric } from ${JSON.stringify(here('../firmware-specs/traits.ts'))};
import { readNow } from ${JSON.stringify(here('../firmware-specs/commands.ts'))};
const telemetry = layout({ kwh: numeric('energy_kwh', { min: 0 }) });
`;

  it('throws a message naming the file and its problem', async () => {
    const dir = specDir({
      'electricity_meter/acme-em1.ts': `${header}
export default defineDevice({
  family: 'electricity_meter', vendor: 'Acme', model: 'EM-1',
  firmware: { '1.x': { telemetry, example: { kwh: 1 } }, '1.0.x': { telemetry, example: { kwh: -1 } } },
  commands: { readNow: readNow() },
});`,
    });
    const err = await loadSpecs(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SpecError);
    expect((err as Error).message).toMatch(/acme-em1\.ts is broken/);
    expect((err as Error).message).toMatch(/"1.x" and "1.0.x" overlap/);
    expect((err as Error).message).toMatch(/firmware "1.0.x": example does not match/);
  });

  it('names the file of a spec that fails to load at all', async () => {
    const dir = specDir({
      'streetlight/acme-sl1.ts': `${header}\nthrow new Error('half-written spec');\n`,
    });
    await expect(loadSpecs(dir)).rejects.toThrow(/acme-sl1\.ts does not load: half-written spec/);
  });

  it('refuses a spec filed under the wrong family', async () => {
    const dir = specDir({
      'water_station/acme-em2.ts': `${header}
export default defineDevice({
  family: 'electricity_meter', vendor: 'Acme', model: 'EM-2',
  firmware: { '1.x': { telemetry, example: { kwh: 1 } } },
  commands: { readNow: readNow() },
});`,
    });
    await expect(loadSpecs(dir)).rejects.toThrow(
      /acme-em2\.ts is broken:\n {2}- family "electricity_meter" but the file is under water_station\//,
    );
  });

  it('loads a sound directory', async () => {
    const dir = specDir({
      'electricity_meter/acme-em3.ts': `${header}
export default defineDevice({
  family: 'electricity_meter', vendor: 'Acme', model: 'EM-3',
  firmware: { '1.x': { telemetry, example: { kwh: 1 } } },
  commands: { readNow: readNow() },
});`,
    });
    const loaded = await loadSpecs(dir);
    expect([...loaded.keys()]).toEqual(['acme-em3']);
  });
});
