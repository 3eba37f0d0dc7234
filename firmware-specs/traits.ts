import { z } from 'zod';

/**
 * Building blocks of a firmware's raw payload layout. One declaration per raw field yields the
 * zod check of the raw value, the decoder to the canonical field and the encoder back to the raw
 * layout (used by the simulators), in the manner of zigbee-herdsman-converters' modernExtend.
 */
export interface FieldTrait {
  /** Canonical field of the family this raw field maps onto. */
  readonly field: string;
  readonly schema: z.ZodType;
  readonly optional: boolean;
  /** Exactly the verdict of `schema` on a present value, without building zod's result objects. */
  accepts(raw: unknown): boolean;
  decode(raw: unknown): unknown;
  encode(value: unknown): unknown;
}

interface NumericOptions {
  /** canonical = raw * scale + offset (e.g. scale 0.001 for a raw Wh counter into kWh). */
  scale?: number;
  offset?: number;
  /** The raw value is an integer on the wire. */
  int?: boolean;
  /** Bounds of the raw value. */
  min?: number;
  max?: number;
  optional?: boolean;
}

/** Drops the binary noise of scaling (0.1 * 3 = 0.30000000000000004). */
export function tidy(n: number): number {
  return Number.parseFloat(n.toPrecision(12));
}

export function numeric(field: string, opts: NumericOptions = {}): FieldTrait {
  const scale = opts.scale ?? 1;
  const offset = opts.offset ?? 0;
  let schema = opts.int ? z.number().int() : z.number().finite();
  if (opts.min !== undefined) schema = schema.min(opts.min);
  if (opts.max !== undefined) schema = schema.max(opts.max);
  const { min = Number.NEGATIVE_INFINITY, max = Number.POSITIVE_INFINITY } = opts;
  return {
    field,
    schema,
    optional: opts.optional ?? false,
    accepts: opts.int
      ? (raw) => Number.isSafeInteger(raw) && (raw as number) >= min && (raw as number) <= max
      : (raw) => typeof raw === 'number' && Number.isFinite(raw) && raw >= min && raw <= max,
    // Identity mappings skip tidy(): there is no scaling noise to remove, and it is on the hot path.
    decode: scale === 1 && offset === 0 ? (raw) => raw : (raw) => tidy((raw as number) * scale + offset),
    encode: (value) => {
      const raw = ((value as number) - offset) / scale;
      return opts.int ? Math.round(raw) : tidy(raw);
    },
  };
}

type FlagEncoding = 'boolean' | 'int' | 'onoff';

/** A boolean canonical field carried as true/false, 1/0 or "ON"/"OFF". */
export function flag(field: string, opts: { as?: FlagEncoding; optional?: boolean } = {}): FieldTrait {
  const as = opts.as ?? 'boolean';
  const variants = {
    boolean: {
      schema: z.boolean(),
      accepts: (r: unknown) => typeof r === 'boolean',
      decode: (r: unknown) => r as boolean,
      encode: (v: boolean) => v,
    },
    int: {
      schema: z.union([z.literal(0), z.literal(1)]),
      accepts: (r: unknown) => r === 0 || r === 1,
      decode: (r: unknown) => r === 1,
      encode: (v: boolean) => (v ? 1 : 0),
    },
    onoff: {
      schema: z.enum(['ON', 'OFF']),
      accepts: (r: unknown) => r === 'ON' || r === 'OFF',
      decode: (r: unknown) => r === 'ON',
      encode: (v: boolean) => (v ? 'ON' : 'OFF'),
    },
  }[as];
  return {
    field,
    schema: variants.schema,
    optional: opts.optional ?? false,
    accepts: variants.accepts,
    decode: variants.decode,
    encode: (v) => variants.encode(v as boolean),
  };
}

export interface TelemetryLayout {
  /** Raw payload schema whose output is the canonical reading (family fields only). */
  readonly schema: z.ZodType<Record<string, unknown>>;
  /** Canonical reading to this firmware's raw payload (simulators, examples). */
  encode(reading: Record<string, unknown>): Record<string, unknown>;
  /** raw path -> canonical field */
  readonly fields: Readonly<Record<string, string>>;
  /**
   * The ingest fast path: the canonical reading when `schema` would accept the payload, else
   * null (then `schema` is run for its reasons). Same verdict, a fraction of the allocations.
   */
  decode(raw: unknown): Record<string, unknown> | null;
}

/**
 * A raw layout: keys are raw paths (dots for nesting, `"m.v"` is `{"m":{"v":…}}`), values are
 * traits. Unknown raw keys are ignored, as firmware adds diagnostics over time.
 */
export function layout(map: Record<string, FieldTrait>): TelemetryLayout {
  const tree: Record<string, unknown> = {};
  for (const [path, trait] of Object.entries(map)) {
    const parts = path.split('.');
    let node = tree;
    for (const part of parts.slice(0, -1)) {
      node[part] ??= {};
      node = node[part] as Record<string, unknown>;
    }
    node[parts.at(-1)!] = trait.optional ? trait.schema.optional() : trait.schema;
  }
  // A nested block whose fields are all optional may itself be absent (`{"alarm":{"code":3}}`
  // only while an alarm is raised).
  const toZod = (node: Record<string, unknown>, root = false): z.ZodType => {
    const shape = Object.fromEntries(
      Object.entries(node).map(([k, v]) => [
        k,
        v instanceof z.ZodType ? v : toZod(v as Record<string, unknown>),
      ]),
    );
    const object = z.object(shape);
    const allOptional = Object.values(shape).every((s) => s instanceof z.ZodOptional);
    return !root && allOptional ? object.optional() : object;
  };
  const entries = Object.entries(map).map(([path, trait]) => [path.split('.'), trait] as const);
  const schema = toZod(tree, true).transform((raw) => {
    const out: Record<string, unknown> = {};
    for (const [parts, trait] of entries) {
      const value = getPath(raw as Record<string, unknown>, parts);
      if (value !== undefined) out[trait.field] = trait.decode(value);
    }
    return out;
  });
  // Blocks that must be present: those holding a required field.
  const requiredBlocks = new Set<string>();
  for (const [parts, trait] of entries) {
    if (!trait.optional)
      for (let i = 1; i < parts.length; i++) requiredBlocks.add(parts.slice(0, i).join('.'));
  }
  const blocks = [
    ...new Set(
      entries.flatMap(([parts]) => parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('.'))),
    ),
  ];
  const blockPaths = blocks.map((b) => [b.split('.'), requiredBlocks.has(b)] as const);
  return {
    schema: schema as unknown as z.ZodType<Record<string, unknown>>,
    decode(raw) {
      if (!isPlainObject(raw)) return null;
      for (const [parts, required] of blockPaths) {
        const block = getPath(raw, parts);
        if (block === undefined ? required : !isPlainObject(block)) return null;
      }
      const out: Record<string, unknown> = {};
      for (const [parts, trait] of entries) {
        const value = parts.length === 1 ? raw[parts[0]] : getPath(raw, parts);
        if (value === undefined) {
          if (!trait.optional) return null;
          continue;
        }
        if (!trait.accepts(value)) return null;
        out[trait.field] = trait.decode(value);
      }
      return out;
    },
    fields: Object.fromEntries(Object.entries(map).map(([path, t]) => [path, t.field])),
    encode(reading) {
      const raw: Record<string, unknown> = {};
      for (const [parts, trait] of entries) {
        const value = reading[trait.field];
        if (value !== undefined) setPath(raw, parts, trait.encode(value));
      }
      return raw;
    },
  };
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function getPath(obj: Record<string, unknown>, parts: readonly string[]): unknown {
  let cur: unknown = obj;
  for (const p of parts) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

function setPath(obj: Record<string, unknown>, parts: readonly string[], value: unknown): void {
  let node = obj;
  for (const p of parts.slice(0, -1)) {
    node[p] ??= {};
    node = node[p] as Record<string, unknown>;
  }
  node[parts.at(-1)!] = value;
}
