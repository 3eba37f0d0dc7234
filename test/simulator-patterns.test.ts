import { beforeAll, describe, expect, it } from 'vitest';
import { findFirmware, type ModelSpec } from '../firmware-specs/define-device.ts';
import { cumulativeFields, FAMILIES, type Family, familySchemas } from '../firmware-specs/families.ts';
import { loadSpecs } from '../firmware-specs/index.ts';
import { asciiSlug, concreteVersion, HANOI_DISTRICTS, placeDevices } from '../simulators/hanoi.ts';
import { createPattern, createRng, localHour, type Reading } from '../simulators/patterns.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
// Local midnights in Hanoi: the cool smoggy winter and the hot wet summer.
const WINTER_DAY = Date.parse('2026-01-15T00:00:00+07:00');
const SUMMER_DAY = Date.parse('2026-07-15T00:00:00+07:00');

let specs: Map<string, ModelSpec>;
beforeAll(async () => {
  specs = await loadSpecs();
});

function simulatedFamilies(): Family[] {
  return FAMILIES.filter((f) => [...specs.values()].some((s) => s.family === f && !s.modbus));
}

describe('a simulated day, for every model and firmware', () => {
  it('encodes to the raw layout, parses back and passes the family schema; counters never fall', () => {
    let checked = 0;
    for (const spec of specs.values()) {
      for (const pattern of Object.keys(spec.firmware)) {
        const version = concreteVersion(pattern, createRng(spec.id));
        const fw = findFirmware(spec, version);
        expect(fw, `${spec.id} ${version}`).toBeDefined();
        for (const day of [WINTER_DAY, SUMMER_DAY]) {
          const device = createPattern(spec.family, { seed: `${spec.id}@${version}` });
          const last: Record<string, number> = {};
          for (let t = day; t <= day + DAY; t += 15 * MINUTE) {
            const raw = JSON.parse(JSON.stringify(fw!.telemetry.encode(device.read(t))));
            const parsed = fw!.telemetry.schema.safeParse(raw);
            const where = `${spec.id} ${version} at ${new Date(t).toISOString()}: ${JSON.stringify(raw)}`;
            expect(parsed.success, where).toBe(true);
            expect(familySchemas[spec.family].safeParse(parsed.data).success, where).toBe(true);
            for (const field of cumulativeFields[spec.family]) {
              const value = parsed.data![field] as number | undefined;
              if (value === undefined) continue;
              expect(value, `${field} of ${where}`).toBeGreaterThanOrEqual(last[field] ?? 0);
              last[field] = value;
            }
            checked++;
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(0);
  });
});

function day(family: Family, seed: string, start: number, stepMs: number, days = 1): [number, Reading][] {
  const device = createPattern(family, { seed, faultRate: 0 });
  const out: [number, Reading][] = [];
  for (let t = start; t <= start + days * DAY; t += stepMs) out.push([t, device.read(t)]);
  return out;
}

describe('streetlights', () => {
  it('are on at 22:00 and off at 12:00 local, all year round', () => {
    for (let d = 0; d < 365; d += 20) {
      for (let s = 0; s < 10; s++) {
        const device = createPattern('streetlight', { seed: `sl-${s}`, faultRate: 0 });
        const midnight = WINTER_DAY + d * DAY;
        const noon = device.read(midnight + 12 * HOUR);
        expect(noon.lamp_on, `day ${d} noon`).toBe(false);
        expect(noon.lamp_power_w).toBe(0);
        expect(noon.ambient_lux).toBeGreaterThan(1000);
        const evening = device.read(midnight + 22 * HOUR);
        expect(evening.lamp_on, `day ${d} 22:00`).toBe(true);
        expect(evening.dim_percent).toBe(100);
        expect(evening.lamp_power_w).toBeGreaterThan(50);
        expect(evening.ambient_lux).toBeLessThan(5);
        const small = device.read(midnight + DAY + 2 * HOUR);
        expect(small.dim_percent).toBe(50);
        expect(small.lamp_power_w as number).toBeCloseTo((evening.lamp_power_w as number) / 2, -1);
      }
    }
  });

  it('switch on around dusk, accumulate burn hours while on, and hold a commanded level', () => {
    const readings = day('streetlight', 'sl-dusk', WINTER_DAY, 5 * MINUTE);
    const firstOn = readings.find(([t, r]) => r.lamp_on && localHour(t) > 12)!;
    expect(localHour(firstOn[0])).toBeGreaterThan(17);
    expect(localHour(firstOn[0])).toBeLessThan(19);
    const burned = (readings.at(-1)![1].burn_hours as number) - (readings[0][1].burn_hours as number);
    expect(burned).toBeGreaterThan(11);
    expect(burned).toBeLessThan(14);

    const device = createPattern('streetlight', { seed: 'sl-cmd', faultRate: 0 });
    device.read(WINTER_DAY + 12 * HOUR);
    device.apply({ dim_percent: 40 });
    expect(device.reported()).toEqual({ dim_percent: 40, lamp_on: true });
    expect(device.read(WINTER_DAY + 13 * HOUR)).toMatchObject({ dim_percent: 40, lamp_on: true });
    device.apply({ lamp_on: false });
    expect(device.read(WINTER_DAY + 22 * HOUR)).toMatchObject({ lamp_on: false, lamp_power_w: 0 });
  });
});

describe('electricity meters', () => {
  it('never lose energy, with the relay opened and closed, and stay within grid limits', () => {
    for (const profile of ['residential', 'commercial'] as const) {
      const device = createPattern('electricity_meter', { seed: `em-${profile}`, meterProfile: profile });
      let last = -1;
      for (let t = SUMMER_DAY, i = 0; t <= SUMMER_DAY + 7 * DAY; t += 5 * MINUTE, i++) {
        if (i % 100 === 50) device.apply({ relay_closed: !(device.reported().relay_closed as boolean) });
        const r = device.read(t);
        expect(r.energy_kwh as number).toBeGreaterThanOrEqual(last);
        last = r.energy_kwh as number;
        expect(r.voltage_v).toBeGreaterThanOrEqual(218.5);
        expect(r.voltage_v).toBeLessThanOrEqual(241.5);
        expect(r.power_factor).toBeGreaterThanOrEqual(0.85);
        expect(r.power_factor).toBeLessThanOrEqual(0.99);
        expect(Math.abs((r.frequency_hz as number) - 50)).toBeLessThan(0.2);
        if (!r.relay_closed) expect(r.power_w).toBe(0);
      }
    }
  });

  it('peak in the evening for homes and in office hours for businesses', () => {
    const mean = (rs: [number, Reading][], from: number, to: number) => {
      const sel = rs.filter(([t]) => localHour(t) >= from && localHour(t) < to);
      return sel.reduce((s, [, r]) => s + (r.power_w as number), 0) / sel.length;
    };
    const home = day('electricity_meter', 'em-h', SUMMER_DAY, 10 * MINUTE);
    const office = createPattern('electricity_meter', { seed: 'em-o', meterProfile: 'commercial' });
    const work: [number, Reading][] = [];
    for (let t = SUMMER_DAY; t < SUMMER_DAY + DAY; t += 10 * MINUTE) work.push([t, office.read(t)]);
    expect(mean(home, 18, 22)).toBeGreaterThan(2 * mean(home, 10, 16));
    expect(mean(work, 9, 17)).toBeGreaterThan(2 * mean(work, 0, 5));
  });
});

describe('air quality and water', () => {
  it('air is worse at rush hour, with Hanoi-like PM2.5', () => {
    const rs = day('air_quality', 'aq-1', WINTER_DAY, 15 * MINUTE, 3);
    const at = (h: number) => rs.filter(([t]) => Math.abs(localHour(t) - h) < 0.5).map(([, r]) => r);
    const avg = (xs: Reading[], f: string) => xs.reduce((s, r) => s + (r[f] as number), 0) / xs.length;
    expect(avg(at(8), 'pm25_ugm3')).toBeGreaterThan(avg(at(14), 'pm25_ugm3'));
    expect(avg(at(18), 'no2_ugm3')).toBeGreaterThan(avg(at(3), 'no2_ugm3'));
    expect(avg(at(14), 'temperature_c')).toBeGreaterThan(avg(at(5), 'temperature_c'));
    for (const [, r] of rs) {
      expect(r.pm25_ugm3).toBeGreaterThanOrEqual(30);
      expect(r.pm25_ugm3).toBeLessThanOrEqual(150);
    }
  });

  it('water flows most in the morning, pressure falls as flow rises, and the valve throttles', () => {
    const rs = day('water_station', 'ws-1', SUMMER_DAY, 15 * MINUTE);
    const night = rs.find(([t]) => localHour(t) === 3)![1];
    const morning = rs.find(([t]) => localHour(t) === 7)![1];
    expect(morning.flow_m3h as number).toBeGreaterThan(2 * (night.flow_m3h as number));
    expect(morning.pressure_bar as number).toBeLessThan(night.pressure_bar as number);
    expect(rs.at(-1)![1].total_volume_m3 as number).toBeGreaterThan(rs[0][1].total_volume_m3 as number);
    const device = createPattern('water_station', { seed: 'ws-2' });
    const open = device.read(SUMMER_DAY + 7 * HOUR).flow_m3h as number;
    device.apply({ valve_percent: 25 });
    const throttled = device.read(SUMMER_DAY + 7 * HOUR + MINUTE);
    expect(throttled.valve_percent).toBe(25);
    expect(throttled.flow_m3h as number).toBeLessThan(open / 2);
  });
});

describe('placeDevices over Hanoi', () => {
  it('lists the 30 districts with their diacritics and at least 3 wards each', () => {
    expect(HANOI_DISTRICTS).toHaveLength(30);
    expect(new Set(HANOI_DISTRICTS.map((d) => d.slug)).size).toBe(30);
    for (const d of HANOI_DISTRICTS) {
      expect(d.wards.length).toBeGreaterThanOrEqual(3);
      expect(d.name).toBe(d.name.normalize('NFC'));
      expect(d.slug).toMatch(/^[a-z]+$/);
    }
    expect(asciiSlug('Hoàn Kiếm')).toBe('hoankiem');
    expect(asciiSlug('Đống Đa')).toBe('dongda');
    expect(asciiSlug('Ứng Hòa')).toBe('unghoa');
  });

  it('spreads every family over all 30 districts, deterministically', () => {
    const families = simulatedFamilies();
    const perFamily = Object.fromEntries(families.map((f) => [f, 75]));
    const plans = placeDevices({ perFamily, seed: 'hanoi' }, specs);
    expect(plans).toHaveLength(75 * families.length);
    expect(new Set(plans.map((p) => p.id)).size).toBe(plans.length);
    for (const family of families) {
      const districts = new Set(plans.filter((p) => p.family === family).map((p) => p.district));
      expect(districts).toEqual(new Set(HANOI_DISTRICTS.map((d) => d.name)));
    }
    expect(plans.some((p) => p.district === 'Hoàn Kiếm')).toBe(true);
    expect(plans.some((p) => p.id.startsWith('sl-hoankiem-'))).toBe(families.includes('streetlight'));
    for (const p of plans) {
      const district = HANOI_DISTRICTS.find((d) => d.name === p.district)!;
      expect(p.id).toMatch(new RegExp(`^[a-z]{2}-${district.slug}-\\d{4}$`));
      expect(district.wards).toContain(p.ward);
      const spec = specs.get(p.model)!;
      expect(spec.family).toBe(p.family);
      expect(spec.modbus).toBeUndefined();
      expect(p.firmware).toMatch(/^\d+\.\d+\.\d+$/);
      expect(findFirmware(spec, p.firmware)).toBeDefined();
      expect(Math.abs(p.lat - district.lat)).toBeLessThan(0.05);
      expect(Math.abs(p.lon - district.lon)).toBeLessThan(0.05);
    }
    expect(placeDevices({ perFamily, seed: 'hanoi' }, specs)).toEqual(plans);
    expect(placeDevices({ perFamily, seed: 'saigon' }, specs)).not.toEqual(plans);
  });

  it('places Modbus models only when asked', () => {
    const modbusFamilies = FAMILIES.filter((f) =>
      [...specs.values()].some((s) => s.family === f && s.modbus),
    );
    if (modbusFamilies.length === 0) return;
    const perFamily = Object.fromEntries(modbusFamilies.map((f) => [f, 200]));
    const plans = placeDevices({ perFamily, seed: 1, includeModbus: true }, specs);
    expect(plans.some((p) => specs.get(p.model)!.modbus)).toBe(true);
  });
});
