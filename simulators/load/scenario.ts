import type { ModelSpec } from '../../firmware-specs/define-device.ts';
import { FAMILIES, type Family } from '../../firmware-specs/families.ts';
import { type DevicePlan, placeDevices } from '../hanoi.ts';

/**
 * The city scenario: devices of each family placed over Hanoi's 30 districts and their wards
 * (simulators/hanoi.ts), shared by `npm run demo`, the load generator and the benchmark.
 */

/** A city's mix when only a total is given: many streetlights and meters, fewer stations. */
export const CITY_MIX: Record<Family, number> = {
  streetlight: 0.4,
  electricity_meter: 0.35,
  air_quality: 0.15,
  water_station: 0.1,
};

/** Splits a total over the families by `mix` (largest remainder), each family at least one. */
export function perFamilyOf(total: number, mix: Partial<Record<Family, number>> = CITY_MIX) {
  const families = FAMILIES.filter((f) => (mix[f] ?? 0) > 0);
  const weight = families.reduce((s, f) => s + (mix[f] ?? 0), 0);
  const exact = families.map((f) => (total * (mix[f] ?? 0)) / weight);
  const counts = exact.map(Math.floor);
  let left = total - counts.reduce((a, b) => a + b, 0);
  for (const i of exact.map((x, i) => ({ i, r: x - Math.floor(x) })).sort((a, b) => b.r - a.r)) {
    if (left-- <= 0) break;
    counts[i.i]++;
  }
  return Object.fromEntries(families.map((f, i) => [f, counts[i]])) as Partial<Record<Family, number>>;
}

/** `streetlight=400,electricity_meter=300` -> counts per family. */
export function parsePerFamily(text: string): Partial<Record<Family, number>> {
  const out: Partial<Record<Family, number>> = {};
  for (const part of text.split(',').filter(Boolean)) {
    const [family, count] = part.split('=');
    if (!FAMILIES.includes(family as Family))
      throw new Error(`unknown family "${family}" (${FAMILIES.join(', ')})`);
    const n = Number(count);
    if (!Number.isInteger(n) || n < 0) throw new Error(`bad count for ${family}: "${count}"`);
    out[family as Family] = n;
  }
  return out;
}

/**
 * Plans for a run: placed by family over the districts, ids prefixed (`lg7f3a-sl-hoankiem-0001`)
 * so that runs do not collide in one registry, and dealt family by family in turn, so that the
 * first N of them are a city in miniature too.
 */
export function cityPlans(
  specs: ReadonlyMap<string, ModelSpec>,
  opts: { perFamily: Partial<Record<Family, number>>; seed?: string | number; prefix?: string },
): DevicePlan[] {
  const placed = placeDevices({ perFamily: opts.perFamily, seed: opts.seed ?? 'citygate' }, specs);
  const byFamily = FAMILIES.map((f) => placed.filter((p) => p.family === f));
  const plans: DevicePlan[] = [];
  for (let i = 0; plans.length < placed.length; i++) {
    for (const list of byFamily) if (i < list.length) plans.push(list[i]);
  }
  return opts.prefix ? plans.map((p) => ({ ...p, id: `${opts.prefix}-${p.id}` })) : plans;
}
