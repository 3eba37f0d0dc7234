import { z } from 'zod';
import type { Device } from '../../device-registry/devices.ts';
import { type Family, familySchemas } from '../../firmware-specs/families.ts';

/**
 * One time bucket of one field: aligned to the step from the epoch (as InfluxQL's
 * `GROUP BY time(step)` aligns), `t` its start in epoch ms. Empty buckets are omitted by both
 * sources (InfluxQL `fill(none)`).
 */
export interface Bucket {
  t: number;
  count: number;
  min: number;
  mean: number;
  max: number;
  /** The value of the bucket's latest reading. */
  last: number;
}

/** A validated history request: whole buckets, `from` and `to` multiples of `stepMs`. */
export interface HistoryRequest {
  device: Device;
  fields: string[];
  from: number;
  to: number;
  stepMs: number;
}

/** Mean over all readings of a set of devices (not the mean of their means), null when none. */
export interface MeansRequest {
  district: string;
  family: Family;
  /** The district's devices of that family, as the registry knows them. */
  deviceIds: string[];
  fields: readonly string[];
  from: number;
  to: number;
}

/**
 * Where device history comes from: the embedded rollup store or InfluxDB (InfluxQL). Both give
 * the same buckets for the same readings (test/history-sources-agree.test.ts).
 */
export interface HistorySource {
  readonly name: 'rollup' | 'influxdb';
  history(req: HistoryRequest): Promise<Record<string, Bucket[]>>;
  means(req: MeansRequest): Promise<Record<string, number | null>>;
}

/**
 * Booleans (lamp_on, relay_closed) are not history fields: InfluxDB cannot aggregate them
 * ("unsupported mean iterator type"), and both sources must agree. Numbers only.
 */
const numericFields = Object.fromEntries(
  Object.entries(familySchemas).map(([family, schema]) => [
    family,
    Object.entries(schema.shape)
      .filter(([, s]) => {
        const inner = s instanceof z.ZodOptional ? s.unwrap() : s;
        return inner instanceof z.ZodNumber;
      })
      .map(([name]) => name),
  ]),
) as unknown as Record<Family, readonly string[]>;

export function historyFieldsOf(family: Family): readonly string[] {
  return numericFields[family];
}

/** What the district summary averages over the last hour, per family: what a shift looks at first. */
export const KEY_FIELDS = {
  electricity_meter: ['voltage_v', 'power_w'],
  streetlight: ['dim_percent', 'lamp_power_w'],
  water_station: ['pressure_bar', 'flow_m3h'],
  air_quality: ['pm25_ugm3', 'pm10_ugm3'],
} as const satisfies Record<Family, readonly string[]>;
