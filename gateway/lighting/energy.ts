import type { Device } from '../../device-registry/devices.ts';
import type { ModelSpec } from '../../firmware-specs/define-device.ts';
import { addDays, type LocalDate, nightStart } from './local-time.ts';
import type { NightUnits } from './night-units.ts';
import type { PlannedStep } from './program.ts';
import type { SunCache } from './sun.ts';

/** A luminaire's power at 100 % when neither its readings nor its model say (a common 100 W LED road lantern). */
export const DEFAULT_LAMP_W = 100;

/**
 * A lamp's power at full level: from its last reading (lamp_power_w at dim_percent, when it was
 * lit at 20 % or more, where an LED driver's power is close to linear in its level), else the
 * model's ratedPowerW, else DEFAULT_LAMP_W.
 */
export function fullPowerW(
  d: Device,
  spec: ModelSpec | undefined,
): { watts: number; source: 'reading' | 'model' | 'default' } {
  const r = d.lastReading;
  const w = r?.lamp_power_w;
  const dim = r?.dim_percent;
  if (typeof w === 'number' && typeof dim === 'number' && dim >= 20 && w > 0 && r?.lamp_on !== false)
    return { watts: w / (dim / 100), source: 'reading' };
  if (spec?.ratedPowerW) return { watts: spec.ratedPowerW, source: 'model' };
  return { watts: DEFAULT_LAMP_W, source: 'default' };
}

/** Hours at full power a program's night amounts to (level × time from noon to noon). */
export function fullPowerHours(steps: readonly PlannedStep[], night: LocalDate): number {
  const end = nightStart(addDays(night, 1));
  let level = steps.length ? steps[steps.length - 1].level : 0; // the same program the night before
  let t = nightStart(night);
  let sum = 0;
  for (const s of steps) {
    const at = Math.min(Math.max(s.at, t), end);
    sum += (level / 100) * (at - t);
    t = at;
    level = s.level;
  }
  sum += (level / 100) * (end - t);
  return sum / 3600_000;
}

export interface DistrictEnergy {
  district: string;
  lamps: number;
  fullPowerKw: number;
  programKwh: number;
  /** Every lamp at 100 % from sunset to sunrise (a photocell without dimming). */
  allNightKwh: number;
  savingKwh: number;
  savingPercent: number;
}

const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

/** Energy per district over one night, from each lamp's full power and its unit's program. */
export function nightEnergy(
  plan: NightUnits,
  devices: { get(id: string): Device | undefined; spec(d: Device): ModelSpec | undefined },
  sun: SunCache,
): {
  night: LocalDate;
  districts: DistrictEnergy[];
  total: DistrictEnergy;
  powerSources: Record<string, number>;
} {
  const by = new Map<string, { lamps: number; w: number; programWh: number; allNightWh: number }>();
  const sources: Record<string, number> = { reading: 0, model: 0, default: 0 };
  for (const unit of plan.units.values()) {
    const hours = fullPowerHours(unit.steps, plan.night);
    const [lat, lon] = unit.cell.split(',').map(Number);
    const s = sun.get(plan.night, lat, lon);
    const darkHours = (s.sunrise - s.sunset) / 3600_000;
    for (const id of unit.lamps) {
      const d = devices.get(id);
      if (!d) continue;
      const p = fullPowerW(d, devices.spec(d));
      sources[p.source]++;
      const e = by.get(d.district) ?? { lamps: 0, w: 0, programWh: 0, allNightWh: 0 };
      e.lamps++;
      e.w += p.watts;
      e.programWh += p.watts * hours;
      e.allNightWh += p.watts * darkHours;
      by.set(d.district, e);
    }
  }
  const view = (
    district: string,
    e: { lamps: number; w: number; programWh: number; allNightWh: number },
  ) => ({
    district,
    lamps: e.lamps,
    fullPowerKw: round(e.w / 1000, 2),
    programKwh: round(e.programWh / 1000),
    allNightKwh: round(e.allNightWh / 1000),
    savingKwh: round((e.allNightWh - e.programWh) / 1000),
    savingPercent: e.allNightWh > 0 ? round((1 - e.programWh / e.allNightWh) * 100) : 0,
  });
  const total = { lamps: 0, w: 0, programWh: 0, allNightWh: 0 };
  for (const e of by.values()) {
    total.lamps += e.lamps;
    total.w += e.w;
    total.programWh += e.programWh;
    total.allNightWh += e.allNightWh;
  }
  return {
    night: plan.night,
    districts: [...by.entries()].map(([k, e]) => view(k, e)).sort((a, b) => b.programKwh - a.programKwh),
    total: view('all', total),
    powerSources: sources,
  };
}
