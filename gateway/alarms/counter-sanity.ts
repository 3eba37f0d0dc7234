import type { Device } from '../../device-registry/devices.ts';
import type { ModelSpec, RegisterDef } from '../../firmware-specs/define-device.ts';
import { cumulativeFields } from '../../firmware-specs/families.ts';

/**
 * Counter sanity (issue 9; no alarm platform checks it): a cumulative field (families.ts
 * `cumulativeFields`) never decreases for one device. A decrease is either a rollover (the
 * register wrapped at its maximum: recognised, not an alarm) or a backwards step (a swapped,
 * reset or tampered meter). An increase faster than the device can count (a meter's rated power,
 * one burn hour per hour) is a jump. The reading is tagged, never dropped: the normalizer adds
 * `counter_check="backwards|rollover|jump"` to its line and the alarm rules raise on it.
 */
export const COUNTER_CHECKS = { backwards: 'backwards', rollover: 'rollover', jump: 'jump' } as const;
export type CounterCheck = keyof typeof COUNTER_CHECKS;

export interface CounterLimit {
  field: string;
  /** Largest value before the register wraps to 0, canonical units; null: never wraps. */
  max: number | null;
  /** Fastest possible growth, canonical units per hour; null: unknown, no jump check. */
  perHour: number | null;
  /** Shortest elapsed time a jump is judged over (a device's readings are not finer). */
  minElapsedMs: number;
}

interface Last {
  value: number;
  ts: number;
}

const HOUR_MS = 3_600_000;
/** Meters are class 1-2 and can pass their maximum current briefly: 20 % headroom. */
const RATE_HEADROOM = 1.2;
/** float32 keeps about 7 significant digits: differences below that are register noise. */
const RELATIVE_NOISE = 1e-6;

const INTEGER_MAX: Partial<Record<RegisterDef['type'], number>> = {
  uint16: 2 ** 16 - 1,
  uint32: 2 ** 32 - 1,
  uint64: 2 ** 64 - 1,
  int16: 2 ** 15 - 1,
  int32: 2 ** 31 - 1,
  int64: 2 ** 63 - 1,
};

/** The register's largest canonical value, from the spec's `counters` or its Modbus map. */
function registerMax(spec: ModelSpec, field: string): number | null {
  const declared = spec.counters?.[field]?.max;
  if (declared !== undefined) return declared;
  const reg = spec.modbus?.registers[field];
  const raw = reg && INTEGER_MAX[reg.type];
  if (reg && raw !== undefined) return raw * (reg.scale ?? 1) + (reg.offset ?? 0);
  return null;
}

function ratePerHour(spec: ModelSpec, field: string): number | null {
  if (field === 'energy_kwh' && spec.ratedPowerW) return spec.ratedPowerW / 1000;
  if (field === 'burn_hours') return 1;
  return null;
}

export function counterLimits(spec: ModelSpec): CounterLimit[] {
  const minElapsedMs = (spec.reportIntervalSeconds ?? 60) * 1000;
  return cumulativeFields[spec.family].map((field) => ({
    field,
    max: registerMax(spec, field),
    perHour: ratePerHour(spec, field),
    minElapsedMs: Math.min(minElapsedMs, 60_000),
  }));
}

/** The verdict on one counter step; null when the step is sane. */
export function judgeStep(limit: CounterLimit, last: Last, value: number, ts: number): CounterCheck | null {
  const noise = RELATIVE_NOISE * Math.max(1, Math.abs(last.value));
  const elapsedMs = Math.max(ts - last.ts, limit.minElapsedMs);
  const allowed = limit.perHour === null ? null : (limit.perHour * RATE_HEADROOM * elapsedMs) / HOUR_MS;
  const delta = value - last.value;
  if (delta < -noise) {
    if (limit.max === null) return 'backwards';
    // Counted up to the maximum, wrapped to 0 and on to `value`.
    const wrapped = limit.max - last.value + value;
    const plausible = allowed === null ? wrapped <= limit.max / 10 : wrapped <= allowed + noise;
    return wrapped >= 0 && plausible ? 'rollover' : 'backwards';
  }
  if (allowed !== null && delta > allowed + noise) return 'jump';
  return null;
}

export class CounterSanity {
  readonly #limits = new WeakMap<ModelSpec, CounterLimit[]>();
  readonly #last = new Map<string, Array<Last | undefined>>();

  /**
   * Checks the reading's counters against the device's previous ones and remembers them.
   * Readings older than the last one checked (a device emptying its buffer out of order) are
   * not judged and not remembered. Called before the line is built.
   */
  check(device: Device, spec: ModelSpec, fields: Record<string, unknown>, ts: number): CounterCheck | null {
    if (cumulativeFields[device.family].length === 0) return null;
    let limits = this.#limits.get(spec);
    if (!limits) {
      limits = counterLimits(spec);
      this.#limits.set(spec, limits);
    }
    let last = this.#last.get(device.id);
    if (!last) {
      last = [];
      this.#last.set(device.id, last);
    }
    let verdict: CounterCheck | null = null;
    for (let i = 0; i < limits.length; i++) {
      const value = fields[limits[i].field];
      if (typeof value !== 'number') continue;
      const prev = last[i];
      if (prev && ts <= prev.ts) continue;
      const v = prev ? judgeStep(limits[i], prev, value, ts) : null;
      // backwards outranks jump outranks rollover when a reading carries several counters.
      if (v && (verdict === null || rank[v] > rank[verdict])) verdict = v;
      last[i] = { value, ts };
    }
    return verdict;
  }

  /** A device was removed or replaced: its next reading starts a new history. */
  forget(deviceId: string): void {
    this.#last.delete(deviceId);
  }
}

const rank: Record<CounterCheck, number> = { rollover: 0, jump: 1, backwards: 2 };
