import { describe, expect, it } from 'vitest';
import type { Family } from '../firmware-specs/families.ts';
import { FAMILIES } from '../firmware-specs/families.ts';
import { defaultRules } from '../gateway/alarms/rules.ts';
import { deviceOf, engineHarness } from './helpers/alarms.ts';

type Fields = Record<string, unknown>;

const MODEL: Record<Family, string> = {
  streetlight: 'lumina-slc300',
  water_station: 'aquanet-ws200',
  air_quality: 'airviet-aq5',
  electricity_meter: 'vinasmart-em310',
};

/** A normal reading of each family: no default rule holds for it. */
const BASE: Record<Family, Fields> = {
  streetlight: {
    lamp_on: true,
    dim_percent: 100,
    lamp_power_w: 80,
    ambient_lux: 2,
    burn_hours: 1000,
    fault_code: 0,
  },
  water_station: {
    flow_m3h: 100,
    pressure_bar: 3,
    total_volume_m3: 5000,
    turbidity_ntu: 0.4,
    chlorine_mgl: 0.5,
    ph: 7.2,
    valve_percent: 80,
  },
  air_quality: { pm25_ugm3: 30, pm10_ugm3: 50, no2_ugm3: 30, o3_ugm3: 40, co_mgm3: 0.8, temperature_c: 28 },
  electricity_meter: {
    energy_kwh: 100,
    power_w: 2000,
    voltage_v: 230,
    current_a: 9,
    power_factor: 0.95,
    frequency_hz: 50,
    relay_closed: true,
  },
};

interface Scenario {
  family: Family;
  rule: string;
  bad: Fields;
  /** Alternated after the raise: around the threshold but inside the deadband (or off-delay). */
  oscillate: [Fields, Fields];
  normal: Fields;
}

const s = (
  family: Family,
  rule: string,
  bad: Fields,
  oscillate: [Fields, Fields],
  normal: Fields,
): Scenario => ({
  family,
  rule,
  bad,
  oscillate,
  normal,
});
const v = (field: string) => (x: unknown) => ({ [field]: x });
const p = v('pressure_bar');
const pm = v('pm25_ugm3');
const volt = v('voltage_v');
const counter = (family: Family, rule: string, check: string) =>
  s(family, rule, { counter_check: check }, [{ counter_check: check }, {}], {});

const SCENARIOS: Scenario[] = [
  s('streetlight', 'lamp_fault', { fault_code: 7 }, [{ fault_code: 7 }, { fault_code: 0 }], {
    fault_code: 0,
  }),
  s('streetlight', 'day_burner', { ambient_lux: 5000 }, [{ ambient_lux: 1100 }, { ambient_lux: 700 }], {
    ambient_lux: 100,
  }),
  s(
    'streetlight',
    'dark_lamp',
    { lamp_on: false, ambient_lux: 2 },
    [
      { lamp_on: false, ambient_lux: 9 },
      { lamp_on: false, ambient_lux: 12 },
    ],
    { lamp_on: true },
  ),
  counter('streetlight', 'counter_backwards', 'backwards'),
  counter('streetlight', 'counter_jump', 'jump'),
  s('water_station', 'pressure_low', p(0.5), [p(0.95), p(1.15)], p(3)),
  s('water_station', 'pressure_high', p(7), [p(6.1), p(5.8)], p(3)),
  s(
    'water_station',
    'turbidity_high',
    { turbidity_ntu: 5 },
    [{ turbidity_ntu: 2.1 }, { turbidity_ntu: 1.8 }],
    {},
  ),
  s(
    'water_station',
    'chlorine_out_of_range',
    { chlorine_mgl: 0.1 },
    [{ chlorine_mgl: 0.19 }, { chlorine_mgl: 0.24 }],
    {},
  ),
  s(
    'water_station',
    'chlorine_out_of_range',
    { chlorine_mgl: 1.5 },
    [{ chlorine_mgl: 1.01 }, { chlorine_mgl: 0.96 }],
    {},
  ),
  s('water_station', 'ph_out_of_range', { ph: 5.5 }, [{ ph: 5.95 }, { ph: 6.05 }], {}),
  s('water_station', 'ph_out_of_range', { ph: 9 }, [{ ph: 8.55 }, { ph: 8.45 }], {}),
  counter('water_station', 'counter_backwards', 'backwards'),
  s('air_quality', 'pm25_24h_limit', pm(120), [pm(52), pm(47)], pm(10)),
  s('air_quality', 'aqi_bad', pm(120), [pm(82), pm(78)], pm(30)),
  s('air_quality', 'aqi_very_bad', pm(250), [pm(152), pm(145)], pm(30)),
  s('electricity_meter', 'voltage_low', volt(215), [volt(218), volt(220)], volt(230)),
  s('electricity_meter', 'voltage_very_low', volt(200), [volt(206), volt(208)], volt(230)),
  s('electricity_meter', 'voltage_high', volt(245), [volt(242), volt(240)], volt(230)),
  s(
    'electricity_meter',
    'power_factor_low',
    { power_factor: 0.8 },
    [{ power_factor: 0.89 }, { power_factor: 0.91 }],
    {},
  ),
  s(
    'electricity_meter',
    'relay_open_uncommanded',
    { relay_closed: false },
    [{ relay_closed: false }, {}],
    {},
  ),
  counter('electricity_meter', 'counter_backwards', 'backwards'),
  counter('electricity_meter', 'counter_jump', 'jump'),
];

const STEP_MS = 60_000;
const MAX_STEPS = 5000;

describe('every default rule', () => {
  it('has a scenario here (presence rules are tested with the engine)', () => {
    for (const family of FAMILIES)
      for (const rule of defaultRules(family).filter((r) => !r.offline))
        expect(
          SCENARIOS.some((x) => x.family === family && x.rule === rule.id),
          `${family} ${rule.id}`,
        ).toBe(true);
  });

  for (const sc of SCENARIOS) {
    it(`${sc.family} ${sc.rule} (${JSON.stringify(sc.bad)}) raises after its on-delay, holds through an oscillation, clears after its off-delay`, () => {
      const rule = defaultRules(sc.family).find((r) => r.id === sc.rule)!;
      const { clock, signals, engine } = engineHarness();
      const device = deviceOf(MODEL[sc.family]);
      const mine = () => signals.filter((x) => x.ruleId === sc.rule);
      const feed = (fields: Fields) => {
        engine.reading(device, { ...BASE[sc.family], ...fields }, clock.now());
        clock.advance(STEP_MS);
      };
      // Long enough for the widest moving mean to be defined.
      for (let i = 0; i < 1500; i++) feed({});
      expect(mine()).toEqual([]);

      const badFrom = clock.now();
      for (let i = 0; i < MAX_STEPS && mine().length === 0; i++) feed(sc.bad);
      const [raise] = mine();
      expect(raise, 'raised').toMatchObject({ kind: 'raise', deviceId: device.id, severity: rule.severity });
      expect(raise.at - badFrom).toBeGreaterThanOrEqual(rule.onDelaySeconds * 1000);
      if (!JSON.stringify(rule.condition).includes('meanOver'))
        expect(raise.at - badFrom).toBeLessThanOrEqual(rule.onDelaySeconds * 1000 + STEP_MS);
      expect(raise.message).not.toMatch(/\{\w+\}/);

      // Ends on the side past the threshold, so the normal run below starts the off-delay.
      for (let i = 0; i < 31; i++) feed(sc.oscillate[i % 2]);
      expect(mine(), 'no chattering inside the deadband or off-delay').toHaveLength(1);

      const normalFrom = clock.now();
      for (let i = 0; i < MAX_STEPS && mine().length === 1; i++) feed(sc.normal);
      const [, clear] = mine();
      expect(clear, 'cleared').toMatchObject({ kind: 'clear', deviceId: device.id });
      expect(clear.at - normalFrom).toBeGreaterThanOrEqual(rule.offDelaySeconds * 1000);
      for (let i = 0; i < 10; i++) feed(sc.normal);
      expect(mine()).toHaveLength(2);
    });
  }
});
