import { createHash } from 'node:crypto';
import type { Device } from '../../device-registry/devices.ts';
import type { CalendarResolver, DayType } from './calendar.ts';
import type { LocalDate } from './local-time.ts';
import { type PlannedStep, type Program, planNight } from './program.ts';
import { cellOf, type SunCache } from './sun.ts';

/**
 * A unit is what the scheduler executes and remembers: the lamps of one calendar assignment
 * that run the same program on a night from the same position cell, so they share step times.
 */
export interface Unit {
  key: string;
  night: LocalDate;
  assignment: string;
  program: string;
  dayType: DayType;
  exception: string | null;
  cell: string;
  steps: PlannedStep[];
  lamps: string[];
}

export interface NightUnits {
  night: LocalDate;
  units: Map<string, Unit>;
  unitOf: Map<string, Unit>;
  /** Lamps an assignment covers that cannot run tonight, with the reason (no sun event, unknown program). */
  failed: Map<string, string>;
}

/** Where a lamp without a registered position is taken to be: Hoàn Kiếm lake, Hanoi's centre. */
export const REFERENCE_POSITION = { lat: 21.0285, lon: 105.8542 };

export function lampPosition(d: Device): { lat: number; lon: number; assumed: boolean } {
  if (d.lat === null || d.lon === null) return { ...REFERENCE_POSITION, assumed: true };
  return { lat: d.lat, lon: d.lon, assumed: false };
}

/** Resolves every lamp's program for a night and plans each unit's steps once. */
export function buildNightUnits(
  night: LocalDate,
  lamps: Iterable<Device>,
  resolver: CalendarResolver,
  programs: ReadonlyMap<string, Program>,
  sun: SunCache,
): NightUnits {
  const out: NightUnits = { night, units: new Map(), unitOf: new Map(), failed: new Map() };
  // A program edited mid-night is a new unit: its recorded step index meant the old steps.
  const version = new Map<string, string>();
  for (const [id, p] of programs)
    version.set(id, createHash('sha256').update(JSON.stringify(p.steps)).digest('hex').slice(0, 8));
  const unplannable = new Map<string, string>();
  for (const d of lamps) {
    if (d.family !== 'streetlight' || !d.enabled) continue;
    const r = resolver.resolve(d, night);
    if (!r) continue;
    const pos = lampPosition(d);
    const cell = cellOf(pos.lat, pos.lon);
    const key = `${r.assignment}|${r.program}@${version.get(r.program) ?? '-'}|${cell.key}`;
    let unit = out.units.get(key);
    if (!unit) {
      const reason = unplannable.get(key);
      if (reason) {
        out.failed.set(d.id, reason);
        continue;
      }
      const program = programs.get(r.program);
      try {
        if (!program) throw new Error(`program ${r.program} does not exist`);
        const steps = planNight(program, night, () => sun.get(night, pos.lat, pos.lon));
        unit = { key, night, ...r, cell: cell.key, steps, lamps: [] };
        out.units.set(key, unit);
      } catch (err) {
        unplannable.set(key, (err as Error).message);
        out.failed.set(d.id, (err as Error).message);
        continue;
      }
    }
    unit.lamps.push(d.id);
    out.unitOf.set(d.id, unit);
  }
  return out;
}

/** Index of the last step at or before `t`, −1 before the first. */
export function stepAt(steps: readonly PlannedStep[], t: number): number {
  let i = -1;
  while (i + 1 < steps.length && steps[i + 1].at <= t) i++;
  return i;
}
