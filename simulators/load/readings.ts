import { type FirmwareSpec, findFirmware, type ModelSpec } from '../../firmware-specs/define-device.ts';
import { canonicalFieldsOf } from '../../firmware-specs/families.ts';
import { createPattern, type DevicePattern } from '../patterns.ts';

/**
 * The readings of one load-test device: its family's daily pattern, encoded in its firmware's raw
 * layout, with a `ts` that strictly increases per device (so every reading is its own sample in
 * the time-series database, and the stored count can be checked exactly).
 */
export class ReadingSource {
  readonly #firmware: FirmwareSpec;
  readonly #pattern: DevicePattern;
  readonly #patternTime: (wallMs: number) => number;
  #lastTs = 0;

  constructor(opts: {
    id: string;
    spec: ModelSpec;
    firmware: string;
    patternTime?: (wallMs: number) => number;
    lat?: number;
    lon?: number;
  }) {
    const fw = findFirmware(opts.spec, opts.firmware);
    if (!fw) throw new Error(`${opts.id}: model ${opts.spec.id} has no firmware ${opts.firmware}`);
    this.#firmware = fw;
    this.#pattern = createPattern(opts.spec.family, { seed: opts.id, lat: opts.lat, lon: opts.lon });
    this.#patternTime = opts.patternTime ?? ((t) => t);
  }

  /** The next payload, stamped `wallMs` or 1 ms after the previous one, whichever is later. */
  next(wallMs: number): { payload: string; ts: number } {
    const ts = Math.max(wallMs, this.#lastTs + 1);
    this.#lastTs = ts;
    const raw = this.#firmware.telemetry.encode(this.#pattern.read(this.#patternTime(ts)));
    return { payload: JSON.stringify({ ...raw, ts }), ts };
  }
}

const HOUR = 3_600_000;

/**
 * A canonical field present in every reading a model's firmware produces over a simulated day:
 * counting its samples counts readings (one sample per reading), whatever else the layout omits.
 */
export function probeField(spec: ModelSpec, firmware: string): string {
  const fw = findFirmware(spec, firmware);
  if (!fw) throw new Error(`model ${spec.id} has no firmware ${firmware}`);
  let present: Set<string> | undefined;
  const pattern = createPattern(spec.family, { seed: `probe:${spec.id}` });
  const day = Date.parse('2026-01-15T00:00:00+07:00');
  for (let t = day; t < day + 24 * HOUR; t += HOUR) {
    const parsed = fw.telemetry.schema.safeParse(
      JSON.parse(JSON.stringify(fw.telemetry.encode(pattern.read(t)))),
    );
    if (!parsed.success) continue;
    const keys = new Set(Object.keys(parsed.data as object));
    present = present ? new Set([...present].filter((k) => keys.has(k))) : keys;
  }
  const field = canonicalFieldsOf(spec.family).find((f) => present?.has(f));
  if (!field) throw new Error(`model ${spec.id} ${firmware}: no field present in every reading`);
  return field;
}
