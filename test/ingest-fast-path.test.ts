import { describe, expect, it } from 'vitest';
import { canonicalChecks, FAMILIES, familySchemas } from '../firmware-specs/families.ts';
import { loadSpecs } from '../firmware-specs/index.ts';

const specs = await loadSpecs();

// Values that sit on, inside and outside the bounds and types the schemas use.
const ODD_VALUES: unknown[] = [
  null,
  true,
  false,
  'ON',
  'OFF',
  'on',
  '1',
  0,
  1,
  -1,
  0.5,
  -0.5,
  1.5,
  99.9,
  100,
  100.1,
  101,
  1000,
  1001,
  -60,
  -61,
  80,
  81,
  14,
  14.01,
  2 ** 53,
  -(2 ** 53),
  1e12,
  [],
  {},
  { v: 1 },
];

function* leaves(obj: Record<string, unknown>, prefix: string[] = []): Generator<string[]> {
  for (const [k, v] of Object.entries(obj)) {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      yield [...prefix, k];
      yield* leaves(v as Record<string, unknown>, [...prefix, k]);
    } else yield [...prefix, k];
  }
}

function mutate(example: Record<string, unknown>, path: string[], value: unknown): Record<string, unknown> {
  const copy = structuredClone(example);
  let node = copy as Record<string, unknown>;
  for (const p of path.slice(0, -1)) node = node[p] as Record<string, unknown>;
  if (value === undefined) delete node[path.at(-1)!];
  else node[path.at(-1)!] = value;
  return copy;
}

describe('ingest fast path', () => {
  it('decodes exactly what each firmware schema accepts, to the same reading', () => {
    let cases = 0;
    for (const spec of specs.values()) {
      for (const [version, fw] of Object.entries(spec.firmware)) {
        const variants: unknown[] = [fw.example, { ...fw.example, ts: 1 }, null, [], 'x', 5];
        for (const path of leaves(fw.example)) {
          variants.push(mutate(fw.example, path, undefined));
          for (const v of ODD_VALUES) variants.push(mutate(fw.example, path, v));
        }
        for (const v of variants) {
          const zod = fw.telemetry.schema.safeParse(v);
          const fast = fw.telemetry.decode(v);
          expect(fast !== null, `${spec.id} ${version} ${JSON.stringify(v)}`).toBe(zod.success);
          if (zod.success) expect(fast).toEqual(zod.data);
          cases++;
        }
      }
    }
    expect(cases).toBeGreaterThan(1000);
  });

  it('checks canonical readings exactly as the family schemas do', () => {
    for (const family of FAMILIES) {
      const schema = familySchemas[family];
      for (const field of Object.keys(schema.shape)) {
        for (const v of ODD_VALUES) {
          const reading = { [field]: v };
          expect(canonicalChecks[family](reading), `${family}.${field} = ${JSON.stringify(v)}`).toBe(
            schema.safeParse(reading).success,
          );
        }
      }
    }
  });
});
