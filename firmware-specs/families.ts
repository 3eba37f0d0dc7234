import { z } from 'zod';

/**
 * The canonical, unit-bearing fields of each family (docs/design.md, "Device families").
 * Every firmware's normalized output is checked against these schemas before it is stored.
 */
const finite = () => z.number().finite();
const nonNegative = () => z.number().finite().nonnegative();

export const familySchemas = {
  electricity_meter: z
    .object({
      energy_kwh: nonNegative(),
      power_w: finite(),
      voltage_v: nonNegative().max(1000),
      current_a: finite(),
      power_factor: finite().min(-1).max(1),
      frequency_hz: nonNegative().max(100),
      relay_closed: z.boolean(),
    })
    .partial(),
  streetlight: z
    .object({
      lamp_on: z.boolean(),
      dim_percent: finite().min(0).max(100),
      lamp_power_w: nonNegative(),
      ambient_lux: nonNegative(),
      burn_hours: nonNegative(),
      fault_code: z.number().int().nonnegative(),
    })
    .partial(),
  water_station: z
    .object({
      flow_m3h: finite(),
      pressure_bar: finite().min(-1).max(100),
      total_volume_m3: nonNegative(),
      turbidity_ntu: nonNegative(),
      chlorine_mgl: nonNegative(),
      ph: finite().min(0).max(14),
      valve_percent: finite().min(0).max(100),
    })
    .partial(),
  air_quality: z
    .object({
      pm25_ugm3: nonNegative(),
      pm10_ugm3: nonNegative(),
      no2_ugm3: nonNegative(),
      o3_ugm3: nonNegative(),
      co_mgm3: nonNegative(),
      so2_ugm3: nonNegative(),
      temperature_c: finite().min(-60).max(80),
      humidity_pct: finite().min(0).max(100),
    })
    .partial(),
} as const;

/**
 * Settings a device reports in its state beside the canonical readings, and that a state command
 * can ask for: they are desired and reconciled like readings, never written as telemetry.
 */
export const familySettings = {
  electricity_meter: {},
  streetlight: {},
  water_station: {},
  // setReportInterval (firmware-specs/commands.ts): seconds between readings.
  air_quality: { report_interval_seconds: z.number().int().min(5).max(3600) },
} as const satisfies Record<keyof typeof familySchemas, z.ZodRawShape>;

export type Family = keyof typeof familySchemas;
export const FAMILIES = Object.keys(familySchemas) as Family[];
export type CanonicalReading<F extends Family = Family> = z.infer<(typeof familySchemas)[F]>;

/**
 * Unit and declared precision of each canonical field. A number is stored rounded to its decimals
 * (a Modbus register scaled by 0.1 gives 230.10000000000002, a sensor 27.0000000001): more digits
 * than the instrument resolves are noise. `decimals` is absent for booleans and integers.
 */
export interface FieldFormat {
  unit: string;
  decimals?: number;
}

type FieldFormats = { [F in Family]: { [K in keyof (typeof familySchemas)[F]['shape']]-?: FieldFormat } };

export const fieldFormats: FieldFormats = {
  electricity_meter: {
    energy_kwh: { unit: 'kWh', decimals: 3 },
    power_w: { unit: 'W', decimals: 1 },
    voltage_v: { unit: 'V', decimals: 1 },
    current_a: { unit: 'A', decimals: 3 },
    power_factor: { unit: '', decimals: 3 },
    frequency_hz: { unit: 'Hz', decimals: 2 },
    relay_closed: { unit: '' },
  },
  streetlight: {
    lamp_on: { unit: '' },
    dim_percent: { unit: '%', decimals: 1 },
    lamp_power_w: { unit: 'W', decimals: 1 },
    ambient_lux: { unit: 'lx', decimals: 1 },
    burn_hours: { unit: 'h', decimals: 2 },
    fault_code: { unit: '' },
  },
  water_station: {
    flow_m3h: { unit: 'm³/h', decimals: 3 },
    pressure_bar: { unit: 'bar', decimals: 3 },
    total_volume_m3: { unit: 'm³', decimals: 3 },
    turbidity_ntu: { unit: 'NTU', decimals: 2 },
    chlorine_mgl: { unit: 'mg/L', decimals: 3 },
    ph: { unit: 'pH', decimals: 2 },
    valve_percent: { unit: '%', decimals: 1 },
  },
  air_quality: {
    pm25_ugm3: { unit: 'µg/m³', decimals: 1 },
    pm10_ugm3: { unit: 'µg/m³', decimals: 1 },
    no2_ugm3: { unit: 'µg/m³', decimals: 1 },
    o3_ugm3: { unit: 'µg/m³', decimals: 1 },
    co_mgm3: { unit: 'mg/m³', decimals: 3 },
    so2_ugm3: { unit: 'µg/m³', decimals: 1 },
    temperature_c: { unit: '°C', decimals: 2 },
    humidity_pct: { unit: '%', decimals: 1 },
  },
};

/** Unit of each setting of familySettings. */
export const settingFormats: Record<Family, Record<string, FieldFormat>> = {
  electricity_meter: {},
  streetlight: {},
  water_station: {},
  air_quality: { report_interval_seconds: { unit: 's' } },
};

const units = new Map<string, string>(
  FAMILIES.flatMap((family) =>
    Object.entries({ ...fieldFormats[family], ...settingFormats[family] } as Record<string, FieldFormat>).map(
      ([name, f]) => [name, f.unit] as const,
    ),
  ),
);

/** The declared unit of a canonical field or setting (field names are unique across families); '' if none. */
export const fieldUnit = (field: string | null): string => (field ? (units.get(field) ?? '') : '');

const scales = Object.fromEntries(
  FAMILIES.map((family) => [
    family,
    new Map(
      Object.entries(fieldFormats[family] as Record<string, FieldFormat>)
        .filter(([, f]) => f.decimals !== undefined)
        .map(([name, f]) => [name, 10 ** (f.decimals as number)]),
    ),
  ]),
) as Record<Family, Map<string, number>>;

/**
 * The reading with each number rounded to its field's declared decimals; the same object when
 * nothing changed. An integer over a multiple of a power of ten is the nearest double to the
 * decimal, so 27.0000000001 becomes 27 and 230.10000000000002 becomes 230.1.
 */
export function roundToPrecision(family: Family, reading: Record<string, unknown>): Record<string, unknown> {
  const scale = scales[family];
  let out: Record<string, unknown> | null = null;
  for (const key in reading) {
    const v = reading[key];
    const f = scale.get(key);
    if (f === undefined || typeof v !== 'number') continue;
    const rounded = Math.round(v * f) / f;
    if (rounded === v || !Number.isFinite(rounded)) continue;
    out ??= { ...reading };
    out[key] = rounded;
  }
  return out ?? reading;
}

/** Fields the family declares as cumulative counters: they never decrease for one device. */
export const cumulativeFields: Record<Family, readonly string[]> = {
  electricity_meter: ['energy_kwh'],
  streetlight: ['burn_hours'],
  water_station: ['total_volume_m3'],
  air_quality: [],
};

export function canonicalFieldsOf(family: Family): string[] {
  return Object.keys(familySchemas[family].shape);
}

/** What a device's reported and desired state may name: its canonical fields and settings. */
export function stateFieldsOf(family: Family): string[] {
  return [...canonicalFieldsOf(family), ...Object.keys(familySettings[family])];
}

type Check = (v: unknown) => boolean;

/** A check of one canonical field from its zod schema's public bounds (zod 4: minValue, maxValue, isInt). */
function fieldCheck(schema: z.ZodType): Check {
  const inner = schema instanceof z.ZodOptional ? (schema.unwrap() as z.ZodType) : schema;
  if (inner instanceof z.ZodBoolean) return (v) => typeof v === 'boolean';
  if (inner instanceof z.ZodNumber) {
    const min = inner.minValue ?? Number.NEGATIVE_INFINITY;
    const max = inner.maxValue ?? Number.POSITIVE_INFINITY;
    return inner.isInt
      ? (v) => Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max
      : (v) => typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max;
  }
  return (v) => inner.safeParse(v).success;
}

/**
 * The family check on the ingest fast path: true when the family schema accepts the reading as
 * it is. False sends the reading through the zod schema for its reasons. Tests hold the two to
 * the same verdict.
 */
export const canonicalChecks = Object.fromEntries(
  FAMILIES.map((family) => {
    const checks = new Map(
      Object.entries(familySchemas[family].shape).map(([k, s]) => [k, fieldCheck(s as z.ZodType)]),
    );
    const check = (reading: Record<string, unknown>): boolean => {
      for (const key in reading) {
        const c = checks.get(key);
        if (!c?.(reading[key])) return false;
      }
      return true;
    };
    return [family, check];
  }),
) as Record<Family, (reading: Record<string, unknown>) => boolean>;
