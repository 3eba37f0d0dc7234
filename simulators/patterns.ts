import type { Family } from '../firmware-specs/families.ts';

/**
 * Daily patterns of the four families, as canonical readings (family field names). Time is always
 * passed in (epoch ms from an injected clock), so a pattern runs at any speed and tests are
 * reproducible; randomness comes from a seeded PRNG per device.
 */

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  range(min: number, max: number): number;
  /** Integer in [min, max]. */
  int(min: number, max: number): number;
  normal(mean?: number, sd?: number): number;
  pick<T>(items: readonly T[]): T;
}

/** FNV-1a, 32 bits: a string seed to a number. */
export function hashSeed(seed: string | number): number {
  const s = String(seed);
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: small, fast and good enough for simulation. */
export function createRng(seed: string | number): Rng {
  let a = hashSeed(seed);
  const next = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    range: (min, max) => min + (max - min) * next(),
    int: (min, max) => min + Math.floor((max - min + 1) * next()),
    normal: (mean = 0, sd = 1) => {
      // Box-Muller
      const u = 1 - next();
      return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
    },
    pick: (items) => items[Math.floor(items.length * next())],
  };
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Asia/Ho_Chi_Minh is UTC+7 all year (no daylight saving). */
export const HANOI_UTC_OFFSET_MS = 7 * HOUR;
export const HANOI_CENTRE = { lat: 21.0285, lon: 105.8542 } as const;

/** Local hour of day in Hanoi, fractional, in [0, 24). */
export function localHour(ms: number): number {
  return ((((ms + HANOI_UTC_OFFSET_MS) % DAY) + DAY) % DAY) / HOUR;
}

/** Local day of the year in Hanoi, 0 on 1 January. */
export function dayOfYear(ms: number): number {
  const local = new Date(ms + HANOI_UTC_OFFSET_MS);
  return Math.floor((local.getTime() - Date.UTC(local.getUTCFullYear(), 0, 1)) / DAY);
}

/** 1 in mid-January (cool, dry, smoggy), 0 in mid-July (hot, wet). */
function winterness(ms: number): number {
  return (1 + Math.cos((2 * Math.PI * (dayOfYear(ms) - 15)) / 365)) / 2;
}

const rad = Math.PI / 180;

/** Sun elevation in degrees (low-precision almanac formulas, good to a fraction of a degree). */
export function sunElevationDeg(ms: number, lat: number = HANOI_CENTRE.lat, lon: number = HANOI_CENTRE.lon) {
  const d = ms / DAY - 10957.5; // days since J2000.0
  const g = (357.529 + 0.98560028 * d) * rad;
  const q = 280.459 + 0.98564736 * d;
  const eclipticLon = (q + 1.915 * Math.sin(g) + 0.02 * Math.sin(2 * g)) * rad;
  const obliquity = (23.439 - 0.00000036 * d) * rad;
  const ra = Math.atan2(Math.cos(obliquity) * Math.sin(eclipticLon), Math.cos(eclipticLon)) / rad;
  const dec = Math.asin(Math.sin(obliquity) * Math.sin(eclipticLon));
  const gmstDeg = (18.697374558 + 24.06570982441908 * d) * 15;
  const hourAngle = (gmstDeg + lon - ra) * rad;
  const sinEl =
    Math.sin(lat * rad) * Math.sin(dec) + Math.cos(lat * rad) * Math.cos(dec) * Math.cos(hourAngle);
  return Math.asin(sinEl) / rad;
}

/** Ambient light in lux at a sun elevation; `sky` is 1 for a clear sky, down to ~0.2 overcast. */
export function ambientLux(elevationDeg: number, sky = 1): number {
  if (elevationDeg > 0) return 400 + 110_000 * Math.sin(elevationDeg * rad) ** 1.15 * sky;
  if (elevationDeg > -6) return 400 * 10 ** (elevationDeg * 0.35) * sky; // civil twilight
  return 1.5; // sky glow of a city at night
}

/** A Gaussian bump centred on an hour, on the 24 h circle. */
function bump(hour: number, centre: number, width: number): number {
  const dist = Math.min(Math.abs(hour - centre), 24 - Math.abs(hour - centre));
  return Math.exp(-(dist * dist) / (2 * width * width));
}

/** Smoothly 1 between two hours, 0 outside, with half-hour shoulders. */
function plateau(hour: number, from: number, to: number): number {
  const s = (x: number) => 1 / (1 + Math.exp(-x * 6));
  return s(hour - from) * s(to - hour);
}

/** Slow deterministic noise in [-1, 1] over time: a sum of sines with seeded periods and phases. */
function slowWave(rng: Rng, periodsHours: number[]): (ms: number) => number {
  const terms = periodsHours.map((p) => ({
    p: p * HOUR * rng.range(0.8, 1.25),
    phase: rng.range(0, 2 * Math.PI),
  }));
  return (ms) =>
    terms.reduce((sum, t) => sum + Math.sin((2 * Math.PI * ms) / t.p + t.phase), 0) / terms.length;
}

const clamp = (x: number, min: number, max: number) => Math.min(max, Math.max(min, x));
const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

export type Reading = Record<string, number | boolean>;

export interface DevicePattern {
  readonly family: Family;
  /** The canonical reading at `atMs`; counters integrate the time since the previous call. */
  read(atMs: number): Reading;
  /** Controllable state as the device reports it (canonical fields). */
  reported(): Reading;
  /** Applies desired state (canonical fields, e.g. `{ dim_percent: 40 }`). */
  apply(desired: Record<string, unknown>): void;
}

export const METER_PROFILES = { residential: 'residential', commercial: 'commercial' } as const;
export type MeterProfile = keyof typeof METER_PROFILES;

export interface PatternOptions {
  seed: string | number;
  lat?: number;
  lon?: number;
  /** Meters only; chosen from the seed when absent (about 3 in 4 residential). */
  meterProfile?: MeterProfile;
  /** Streetlights: chance per reading of a transient fault code. */
  faultRate?: number;
  /**
   * Demo faults now and then (issue 9), so alarms open and clear: a lamp failure, a pump losing
   * pressure, a rush-hour PM2.5 episode, a meter swapped and restarting from zero. Each device
   * has its own schedule, from its seed, in pattern time.
   */
  faults?: boolean;
}

/**
 * A recurring episode in pattern time: `durationH` hours every `periodH` hours from a phase,
 * from a PRNG of its own so that enabling faults leaves the normal readings as they were.
 */
export function episodes(seed: string | number, periodH: [number, number], durationH: [number, number]) {
  const rng = createRng(`${seed}:faults`);
  const period = rng.range(...periodH) * HOUR;
  const duration = rng.range(...durationH) * HOUR;
  const phase = rng.range(0, period);
  return {
    /** The episode's number, counting from the epoch, and whether it is on at `at`. */
    at(at: number): { n: number; on: boolean } {
      const t = at - phase;
      const n = Math.floor(t / period);
      return { n, on: t - n * period < duration };
    },
  };
}

/** Integrates a rate (per hour) with the trapezoid rule between successive reads. */
class Integrator {
  private last?: { at: number; rate: number };
  constructor(public total: number) {}
  add(at: number, ratePerHour: number): number {
    if (this.last && at > this.last.at)
      this.total += ((this.last.rate + ratePerHour) / 2) * ((at - this.last.at) / HOUR);
    if (!this.last || at >= this.last.at) this.last = { at, rate: ratePerHour };
    return this.total;
  }
}

function streetlight(rng: Rng, opts: PatternOptions): DevicePattern {
  const lat = opts.lat ?? HANOI_CENTRE.lat;
  const lon = opts.lon ?? HANOI_CENTRE.lon;
  const ratedW = rng.pick([60, 80, 100, 120, 150]);
  const switchBelowDeg = rng.range(-3, 0.5); // photocell tolerance between poles
  const sky = slowWave(rng, [5, 11, 29]);
  const burn = new Integrator(round(rng.range(500, 20_000), 1));
  const faultRate = opts.faultRate ?? 0.001;
  // A lamp (or its driver) fails for a few hours every day or two, until a crew replaces it.
  const failure = opts.faults ? episodes(opts.seed, [24, 48], [1.5, 3]) : undefined;
  let manual: { lamp_on: boolean; dim_percent: number } | undefined;
  let current = { lamp_on: false, dim_percent: 100 };
  return {
    family: 'streetlight',
    read(at) {
      const elevation = sunElevationDeg(at, lat, lon);
      // Dusk to dawn by photocell; half power after midnight (a common Hanoi energy-saving schedule).
      const scheduled = { lamp_on: elevation < switchBelowDeg, dim_percent: localHour(at) < 6 ? 50 : 100 };
      current = manual ?? scheduled;
      let fault = rng.next() < faultRate ? rng.int(1, 4) : 0;
      if (failure?.at(at).on) fault = 2;
      const power =
        current.lamp_on && fault === 0 ? ratedW * (current.dim_percent / 100) * rng.range(0.97, 1.03) : 0;
      return {
        lamp_on: current.lamp_on,
        dim_percent: current.dim_percent,
        lamp_power_w: round(power, 1),
        ambient_lux: round(ambientLux(elevation, 0.6 + 0.4 * sky(at)), 1),
        burn_hours: round(burn.add(at, power > 0 ? 1 : 0), 2),
        fault_code: fault,
      };
    },
    reported: () => ({ ...current }),
    apply(desired) {
      let next = manual ?? current;
      if (typeof desired.dim_percent === 'number') {
        next = { dim_percent: desired.dim_percent, lamp_on: desired.dim_percent > 0 };
      }
      if (typeof desired.lamp_on === 'boolean') {
        const level = desired.lamp_on && next.dim_percent === 0 ? 100 : next.dim_percent;
        next = { lamp_on: desired.lamp_on, dim_percent: level };
      }
      manual = next;
      current = { ...next };
    },
  };
}

function electricityMeter(rng: Rng, opts: PatternOptions): DevicePattern {
  const profile = opts.meterProfile ?? (rng.next() < 0.75 ? 'residential' : 'commercial');
  const scaleKw = profile === 'residential' ? rng.range(0.6, 1.8) : rng.range(4, 20);
  const pfBase = rng.range(0.88, 0.97);
  const grid = slowWave(rng, [2, 7, 23]);
  const energy = new Integrator(round(rng.range(100, 40_000), 3));
  // Every few days the meter is swapped for a new one whose register starts from zero.
  const swaps = opts.faults ? episodes(opts.seed, [36, 72], [0, 0]) : undefined;
  let swapped: number | undefined;
  let relayClosed = true;
  const loadKw = (at: number) => {
    const h = localHour(at);
    const summer = 1 - winterness(at); // air conditioning
    const shape =
      profile === 'residential'
        ? 0.25 +
          0.9 * bump(h, 6.8, 1) +
          (1.4 + 1.2 * summer) * bump(h, 19.5, 1.8) +
          0.6 * summer * bump(h, 1, 3)
        : 0.15 +
          (0.85 + 0.4 * summer) * plateau(h, 8, 18) -
          0.2 * bump(h, 12.3, 0.5) +
          0.15 * bump(h, 19, 1.5);
    return scaleKw * shape * (1 + rng.normal(0, 0.05));
  };
  return {
    family: 'electricity_meter',
    read(at) {
      const swap = swaps?.at(at).n;
      if (swap !== undefined && swapped !== undefined && swap > swapped) energy.total = 0;
      swapped = swap;
      const kw = relayClosed ? Math.max(0, loadKw(at)) : 0;
      const loadFraction = Math.min(1, kw / (scaleKw * 3));
      // Grid voltage 230 V +-5 % (IEC 60038), sagging a little under load.
      const voltage = clamp(
        230 * (1 + 0.02 * grid(at) - 0.02 * loadFraction) + rng.normal(0, 0.6),
        218.5,
        241.5,
      );
      const pf = clamp(pfBase + rng.normal(0, 0.01), 0.85, 0.99);
      const powerW = kw * 1000;
      return {
        energy_kwh: round(energy.add(at, kw), 3),
        power_w: round(powerW, 1),
        voltage_v: round(voltage, 1),
        current_a: round(powerW / (voltage * pf), 3),
        power_factor: round(pf, 3),
        frequency_hz: round(clamp(50 + rng.normal(0, 0.02), 49.9, 50.1), 2),
        relay_closed: relayClosed,
      };
    },
    reported: () => ({ relay_closed: relayClosed }),
    apply(desired) {
      if (typeof desired.relay_closed === 'boolean') relayClosed = desired.relay_closed;
    },
  };
}

function waterStation(rng: Rng, opts: PatternOptions): DevicePattern {
  const nominal = rng.range(80, 600); // m3/h at the daily mean demand
  const p0 = rng.range(3.2, 4.2);
  const water = slowWave(rng, [6, 31]);
  const volume = new Integrator(round(rng.range(10_000, 5_000_000), 1));
  const chlorine = rng.range(0.4, 0.7);
  const ph = rng.range(6.9, 7.6);
  let valve = 100;
  // Now and then a booster pump trips: pressure collapses for an hour or two until it restarts.
  const pumpTrip = opts.faults ? episodes(opts.seed, [18, 36], [1, 2]) : undefined;
  return {
    family: 'water_station',
    read(at) {
      const h = localHour(at);
      const tripped = pumpTrip?.at(at).on ?? false;
      const demand = 0.35 + 1.2 * bump(h, 6.8, 1.1) + 0.5 * plateau(h, 8.5, 17) + 0.9 * bump(h, 19, 1.4);
      const flow = Math.max(
        0,
        nominal * demand * (valve / 100) * (tripped ? 0.3 : 1) * (1 + rng.normal(0, 0.03)),
      );
      // Head loss grows with the square of the flow, so pressure falls when demand peaks.
      const pressure = tripped
        ? clamp(0.6 + rng.normal(0, 0.05), 0.3, 0.9)
        : clamp(p0 - 1.6 * (flow / (nominal * 1.6)) ** 2 + rng.normal(0, 0.03), 0.5, 10);
      return {
        flow_m3h: round(flow, 2),
        pressure_bar: round(pressure, 2),
        total_volume_m3: round(volume.add(at, flow), 1),
        turbidity_ntu: round(Math.max(0.05, 0.35 + 0.15 * water(at) + 0.1 * (flow / nominal)), 2),
        chlorine_mgl: round(Math.max(0.05, chlorine + 0.08 * water(at + 3 * HOUR) + rng.normal(0, 0.01)), 2),
        ph: round(clamp(ph + 0.1 * water(at + 7 * HOUR) + rng.normal(0, 0.02), 6, 9), 2),
        valve_percent: round(valve, 1),
      };
    },
    reported: () => ({ valve_percent: round(valve, 1) }),
    apply(desired) {
      if (typeof desired.valve_percent === 'number') valve = clamp(desired.valve_percent, 0, 100);
    },
  };
}

function airQuality(rng: Rng, opts: PatternOptions): DevicePattern {
  const site = rng.range(0.8, 1.25); // a busy junction against a park
  const pmRatio = rng.range(1.4, 1.8);
  const weather = slowWave(rng, [9, 37, 71]);
  const lat = opts.lat ?? HANOI_CENTRE.lat;
  const lon = opts.lon ?? HANOI_CENTRE.lon;
  // Some mornings a still, inverted sky traps the rush hour's exhaust: PM2.5 climbs past
  // 150 ug/m3 for an hour or two around 08:30 (one morning in two, per station).
  const smoggyMornings = new Map<number, boolean>();
  const smog = (at: number) => {
    if (!opts.faults) return 0;
    const day = Math.floor((at + HANOI_UTC_OFFSET_MS) / DAY);
    let smoggy = smoggyMornings.get(day);
    if (smoggy === undefined) {
      smoggy = createRng(`${opts.seed}:smog:${day}`).next() < 0.5;
      smoggyMornings.set(day, smoggy);
      if (smoggyMornings.size > 7) smoggyMornings.delete(smoggyMornings.keys().next().value!);
    }
    return smoggy ? 140 * bump(localHour(at), 8.5, 0.8) : 0;
  };
  return {
    family: 'air_quality',
    read(at) {
      const h = localHour(at);
      const winter = winterness(at);
      const rush = Math.max(bump(h, 8, 0.9), bump(h, 18, 0.9)); // 7-9 and 17-19
      // Hanoi PM2.5: ~35 ug/m3 in the wet summer, ~90 in winter inversions; night inversion adds.
      const daily = 1 + 0.4 * rush + 0.2 * bump(h, 23, 2.5) - 0.2 * bump(h, 14, 2.5);
      const pm25 =
        clamp((35 + 55 * winter) * daily * site * (1 + 0.15 * weather(at)) + rng.normal(0, 2), 30, 150) +
        smog(at);
      const sun = Math.max(0, Math.sin(sunElevationDeg(at, lat, lon) * rad));
      const meanTemp = 29.5 - 13 * winter;
      const temp = meanTemp + 3.8 * Math.cos((2 * Math.PI * (h - 14.5)) / 24) + 1.5 * weather(at + 5 * HOUR);
      return {
        pm25_ugm3: round(pm25, 1),
        pm10_ugm3: round(pm25 * pmRatio + rng.normal(0, 3), 1),
        no2_ugm3: round(Math.max(5, (25 + 40 * rush) * site + rng.normal(0, 3)), 1),
        o3_ugm3: round(Math.max(2, 15 + 90 * sun * (1 - 0.4 * winter) + rng.normal(0, 3)), 1),
        co_mgm3: round(Math.max(0.2, (0.6 + 1.4 * rush + 0.4 * winter) * site + rng.normal(0, 0.05)), 2),
        so2_ugm3: round(Math.max(1, 8 + 10 * winter + rng.normal(0, 1.5)), 1),
        temperature_c: round(temp + rng.normal(0, 0.2), 1),
        humidity_pct: round(clamp(78 - 2.2 * (temp - meanTemp) + rng.normal(0, 1.5), 30, 100), 1),
      };
    },
    reported: () => ({}),
    apply() {},
  };
}

/** The pattern of one device of a family; the same seed gives the same readings at the same times. */
export function createPattern(family: Family, opts: PatternOptions): DevicePattern {
  const rng = createRng(`${opts.seed}:${family}`);
  switch (family) {
    case 'streetlight':
      return streetlight(rng, opts);
    case 'electricity_meter':
      return electricityMeter(rng, opts);
    case 'water_station':
      return waterStation(rng, opts);
    case 'air_quality':
      return airQuality(rng, opts);
  }
}

/**
 * Pattern time running `factor` times faster than the wall clock from `originMs` (wall) =
 * `startMs` (pattern): `acceleratedTime(60, day0, Date.now())` plays an hour per minute.
 */
export function acceleratedTime(
  factor: number,
  startMs: number,
  originMs: number,
): (wallMs: number) => number {
  return (wallMs) => startMs + (wallMs - originMs) * factor;
}
