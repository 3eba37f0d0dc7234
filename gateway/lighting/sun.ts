import { getTimes } from 'suncalc';
import { InvalidPositionError, NoSunEventError } from './errors.ts';
import { addDays, type LocalDate, localInstant } from './local-time.ts';

/**
 * Sun events per lamp position, from suncalc 2.x (Meeus-based: solar transit refined to zero
 * hour angle, rise and set at −0.833° for refraction and the sun's radius, civil twilight at
 * −6°). We use it rather than a hand-written NOAA routine because it is maintained, typed and
 * already tested against the USNO tables; both agree within seconds at Hanoi's latitude
 * (test/lighting-sun-events.test.ts holds it to an independent NOAA implementation).
 */
export const SUN_EVENTS = ['sunset', 'sunrise', 'civil_dusk', 'civil_dawn'] as const;
export type SunEvent = (typeof SUN_EVENTS)[number];

/** The events a night uses: the evening's dusk and sunset, the next morning's dawn and sunrise. */
export type NightSun = Record<SunEvent, number>;

/**
 * Positions are rounded to 0.01° (about 1.1 km) for the cache: at Hanoi's latitude a sunset
 * moves by 4 minutes per degree of longitude, so by at most 2.4 s inside a cell, while 300,000
 * lamps fall into a few thousand cells.
 */
export const CELL_DEG = 0.01;
const MAX_CACHED = 20_000;

export function checkPosition(lat: unknown, lon: unknown): { lat: number; lon: number } {
  if (typeof lat !== 'number' || !Number.isFinite(lat) || lat < -90 || lat > 90)
    throw new InvalidPositionError(`latitude ${String(lat)} is not a number within ±90°`);
  if (typeof lon !== 'number' || !Number.isFinite(lon) || lon < -180 || lon > 180)
    throw new InvalidPositionError(`longitude ${String(lon)} is not a number within ±180°`);
  return { lat, lon };
}

export function cellOf(lat: number, lon: number): { key: string; lat: number; lon: number } {
  const rl = Math.round(lat / CELL_DEG) * CELL_DEG;
  const ro = Math.round(lon / CELL_DEG) * CELL_DEG;
  return { key: `${rl.toFixed(2)},${ro.toFixed(2)}`, lat: rl, lon: ro };
}

/** One local date's events at a position; local noon anchors suncalc to that solar day. */
function dayEvents(date: LocalDate, lat: number, lon: number) {
  const t = getTimes(new Date(localInstant(date, 12 * 60)), lat, lon);
  return {
    sunrise: t.sunrise?.getTime() ?? null,
    sunset: t.sunset?.getTime() ?? null,
    dawn: t.dawn?.getTime() ?? null,
    dusk: t.dusk?.getTime() ?? null,
  };
}

/** The sun events of a night at an exact position; polar day or night fails with the reason. */
export function nightSun(night: LocalDate, lat: number, lon: number): NightSun {
  checkPosition(lat, lon);
  const evening = dayEvents(night, lat, lon);
  const morning = dayEvents(addDays(night, 1), lat, lon);
  const where = `${lat.toFixed(4)}, ${lon.toFixed(4)}`;
  const need = (v: number | null, what: string, date: LocalDate) => {
    if (v === null)
      throw new NoSunEventError(
        `the sun has no ${what} at ${where} on ${date} (polar day or night): use clock-time steps there`,
      );
    return v;
  };
  return {
    sunset: need(evening.sunset, 'sunset', night),
    civil_dusk: need(evening.dusk, 'civil dusk', night),
    sunrise: need(morning.sunrise, 'sunrise', addDays(night, 1)),
    civil_dawn: need(morning.dawn, 'civil dawn', addDays(night, 1)),
  };
}

/** nightSun per rounded position and night, cached (bounded: the oldest entries go first). */
export class SunCache {
  readonly #cache = new Map<string, NightSun>();
  hits = 0;
  misses = 0;

  get(night: LocalDate, lat: number, lon: number): NightSun {
    checkPosition(lat, lon);
    const cell = cellOf(lat, lon);
    const key = `${night}|${cell.key}`;
    const found = this.#cache.get(key);
    if (found) {
      this.hits++;
      return found;
    }
    this.misses++;
    const sun = nightSun(night, cell.lat, cell.lon);
    if (this.#cache.size >= MAX_CACHED) this.#cache.delete(this.#cache.keys().next().value!);
    this.#cache.set(key, sun);
    return sun;
  }

  get size(): number {
    return this.#cache.size;
  }
}
