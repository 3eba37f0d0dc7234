import { describe, expect, it } from 'vitest';
import type { Family } from '../firmware-specs/families.ts';
import { CounterSanity } from '../gateway/alarms/counter-sanity.ts';
import { createPattern } from '../simulators/patterns.ts';
import { deviceOf, engineHarness, specs } from './helpers/alarms.ts';

const MODEL: Record<Family, string> = {
  streetlight: 'lumina-slc300',
  water_station: 'aquanet-ws200',
  air_quality: 'airviet-aq5',
  electricity_meter: 'vinasmart-em310',
};
const STEP = 5 * 60_000;
const DAYS = 8;

/** Every device of a small city through `DAYS` days of readings, through counter sanity and the engine. */
function simulateCity(faults: boolean) {
  const { clock, signals, engine } = engineHarness();
  const counters = new CounterSanity();
  const devices = (Object.keys(MODEL) as Family[]).flatMap((family) =>
    Array.from({ length: 4 }, (_, i) => {
      const device = deviceOf(MODEL[family], { id: `${family}-${i}` });
      return {
        device,
        spec: specs.get(device.model)!,
        pattern: createPattern(family, { seed: device.id, faults, faultRate: 0 }),
      };
    }),
  );
  for (let t = 0; t < (DAYS * 24 * 3600_000) / STEP; t++) {
    const at = clock.now();
    for (const d of devices) {
      const fields: Record<string, unknown> = d.pattern.read(at);
      const check = counters.check(d.device, d.spec, fields, at);
      if (check) fields.counter_check = check;
      engine.reading(d.device, fields, at);
    }
    clock.advance(STEP);
  }
  const count = (kind: string, rule: string) =>
    signals.filter((s) => s.kind === kind && s.ruleId === rule).length;
  return { signals, count };
}

describe('demo faults', () => {
  it('open and clear alarms: a lamp failure, a pump losing pressure, a rush-hour PM2.5 episode, a meter swapped', () => {
    const { count } = simulateCity(true);
    for (const rule of ['lamp_fault', 'pressure_low', 'aqi_bad', 'counter_backwards']) {
      expect(count('raise', rule), rule).toBeGreaterThan(0);
      expect(count('clear', rule), rule).toBeGreaterThanOrEqual(count('raise', rule) - 4);
    }
  });

  it('without them the simulated city raises none of those', () => {
    const { signals } = simulateCity(false);
    const raised = new Set(signals.filter((s) => s.kind === 'raise').map((s) => s.ruleId));
    console.log('raised without faults:', [...raised].join(', '));
    for (const rule of [
      'lamp_fault',
      'pressure_low',
      // not aqi_bad: a November morning rush in Hanoi is "bad" air on its own
      'aqi_very_bad',
      'counter_backwards',
      'counter_jump',
    ])
      expect(raised.has(rule), rule).toBe(false);
  });
});
