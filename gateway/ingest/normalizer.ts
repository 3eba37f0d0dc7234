import { z } from 'zod';
import type { Device } from '../../device-registry/devices.ts';
import { type FirmwareSpec, findFirmware, type ModelSpec } from '../../firmware-specs/define-device.ts';
import {
  canonicalChecks,
  type Family,
  familySchemas,
  familySettings,
  roundToPrecision,
} from '../../firmware-specs/families.ts';
import type { CounterSanity } from '../alarms/counter-sanity.ts';
import { tagSet, toLine } from './line-protocol.ts';
import { scanPayload } from './payload-scan.ts';
import { type Reason, Rejection } from './rejection.ts';
import { resolveTs } from './timestamp.ts';

export type { Reason } from './rejection.ts';

export interface Rejected {
  /** The payload as it came: kept once, whatever number of its readings were refused. */
  raw: Buffer;
  reasons: Reason[];
  /** Refused readings in it (1 for a payload refused whole). */
  readings: number;
}

export interface Accepted {
  fields: Record<string, unknown>;
  ts: number;
  line: string;
}

export interface NormalizeResult {
  accepted: Accepted[];
  /** At most one: the payload, with the reasons of every refused reading in it. */
  rejected: Rejected[];
}

export const DEFAULT_MAX_DEPTH = 32;
export const DEFAULT_MAX_READINGS = 2000;

const issuesToReasons = (issues: readonly z.core.$ZodIssue[], prefix: string): Reason[] =>
  issues.map((i) => ({
    path:
      prefix +
        (i.path.length
          ? i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')
          : '') || '$',
    message: i.message,
  }));

type Parsed = { ok: true; value: unknown } | { ok: false; reason: Reason };

/** Depth and size are checked on the bytes first: JSON.parse never builds what is refused. */
function parseJson(payload: Buffer, limits: { maxDepth: number; maxElements: number }): Parsed {
  const shape = scanPayload(payload, limits);
  if (!shape.ok) {
    const message = {
      'too-deep': `nested deeper than ${shape.limit} levels`,
      'too-many': `more than ${shape.limit} readings in one payload`,
      'too-wide': `an object with more than ${shape.limit} members`,
    }[shape.reason];
    return { ok: false, reason: { path: '$', message } };
  }
  try {
    return { ok: true, value: JSON.parse(payload.toString('utf8')) };
  } catch (err) {
    return { ok: false, reason: { path: '$', message: `not JSON: ${(err as Error).message}` } };
  }
}

/**
 * Reported state is merged into what the device reported before (DeviceStore.recordState), so
 * its size is bounded across reports, not only per payload: at most this many fields in all, and
 * text settings of at most MAX_STATE_TEXT characters.
 */
export const MAX_STATE_FIELDS = 64;
export const MAX_STATE_TEXT = 256;

// Reported state: canonical fields and the family's declared settings are typed; other settings a
// device reports pass as scalars. Built once: a zod schema costs far more to build than to run.
const stateSchemas = Object.fromEntries(
  Object.entries(familySchemas).map(([family, schema]) => [
    family,
    schema
      .extend(z.object(familySettings[family as Family]).partial().shape)
      .catchall(z.union([z.number(), z.boolean(), z.string().max(MAX_STATE_TEXT)])),
  ]),
) as unknown as Record<Family, z.ZodType<Record<string, unknown>>>;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Validation and normalization of device payloads: the device's firmware schema, then the
 * family's canonical schema, then the timestamp rules; valid readings become line protocol.
 */
export class Normalizer {
  readonly #maxAgeMs: number;
  readonly #limits: { maxDepth: number; maxElements: number };
  // Keyed by the device record: a change (firmware, ward, …) makes a new record
  // (DeviceStore.update), so it takes effect on the next reading.
  readonly #tags = new WeakMap<Device, string>();
  readonly #firmware = new WeakMap<Device, FirmwareSpec | null>();
  readonly #counters: CounterSanity | undefined;

  constructor(opts: { maxAgeMs: number; maxDepth?: number; maxReadings?: number; counters?: CounterSanity }) {
    this.#maxAgeMs = opts.maxAgeMs;
    this.#limits = {
      maxDepth: opts.maxDepth ?? DEFAULT_MAX_DEPTH,
      maxElements: opts.maxReadings ?? DEFAULT_MAX_READINGS,
    };
    this.#counters = opts.counters;
  }

  #firmwareOf(device: Device, spec: ModelSpec): FirmwareSpec | undefined {
    let fw = this.#firmware.get(device);
    if (fw === undefined) {
      fw = findFirmware(spec, device.firmware) ?? null;
      this.#firmware.set(device, fw);
    }
    return fw ?? undefined;
  }

  #tagsOf(device: Device): string {
    let tags = this.#tags.get(device);
    if (tags === undefined) {
      tags = tagSet({
        device_id: device.id,
        family: device.family,
        model: device.model,
        firmware: device.firmware,
        district: device.district,
        ward: device.ward,
      });
      this.#tags.set(device, tags);
    }
    return tags;
  }

  /** `spec` is undefined when the device's model is not loaded (its file was removed or renamed). */
  telemetry(
    device: Device,
    spec: ModelSpec | undefined,
    payload: Buffer,
    receivedAt: number,
  ): NormalizeResult {
    const result: NormalizeResult = { accepted: [], rejected: [] };
    const refuseWhole = (reason: Reason) => {
      result.rejected.push({ raw: payload, reasons: [reason], readings: 1 });
      return result;
    };
    if (!spec) return refuseWhole({ path: '$', message: `model ${device.model} is not loaded` });
    const parsed = parseJson(payload, this.#limits);
    if (!parsed.ok) return refuseWhole(parsed.reason);
    const firmware = this.#firmwareOf(device, spec);
    if (!firmware)
      return refuseWhole({
        path: '$',
        message: `model ${spec.id} has no firmware spec for ${device.firmware}`,
      });
    const value = parsed.value;
    const items = Array.isArray(value) ? value : [value];
    if (items.length === 0) return refuseWhole({ path: '$', message: 'empty array: no reading' });
    const canonical = familySchemas[device.family];
    const canonicalCheck = canonicalChecks[device.family];
    const tags = this.#tagsOf(device);
    const many = Array.isArray(value);
    // The payload is kept once, as it came, with every refused reading's reasons: never
    // re-serialized (a parsed value may nest deep), and zod explains only the first few.
    const rejection = new Rejection();
    const reject = (index: number, reasons: (prefix: string) => Reason[]) => {
      const prefix = many ? `[${index}]` : '';
      rejection.add(
        rejection.explaining ? reasons(prefix) : [{ path: prefix || '$', message: 'invalid reading' }],
      );
    };
    for (let index = 0; index < items.length; index++) {
      const item = items[index];
      if (!isObject(item)) {
        reject(index, (prefix) => [{ path: prefix || '$', message: 'a reading must be a JSON object' }]);
        continue;
      }
      // Fast path first; zod runs only for what it rejects, to say why. `ts` is the envelope:
      // the layouts read only their own keys, so it needs no stripping.
      let fields = firmware.telemetry.decode(item);
      if (!fields) {
        // Past the few explained, the fast path's verdict stands alone (it is exactly zod's,
        // test/ingest-fast-path.test.ts): zod's error trees would cost thousands of times over.
        if (!rejection.explaining) {
          reject(index, () => []);
          continue;
        }
        const fw = firmware.telemetry.schema.safeParse(item);
        if (!fw.success) {
          reject(index, (prefix) => issuesToReasons(fw.error.issues, prefix));
          continue;
        }
        fields = fw.data;
      }
      if (!canonicalCheck(fields)) {
        if (!rejection.explaining) {
          reject(index, () => []);
          continue;
        }
        const fam = canonical.safeParse(fields);
        if (!fam.success) {
          reject(index, (prefix) =>
            issuesToReasons(fam.error.issues, prefix).map((r) => ({
              ...r,
              message: `canonical ${r.message}`,
            })),
          );
          continue;
        }
        fields = fam.data;
      }
      fields = roundToPrecision(device.family, fields);
      const { ts } = resolveTs(item.ts, receivedAt, this.#maxAgeMs);
      // Counter sanity (issue 9): a suspicious counter step is tagged, never dropped.
      const counterCheck = this.#counters?.check(device, spec, fields, ts);
      if (counterCheck) fields = { ...fields, counter_check: counterCheck };
      const line = toLine(device.family, tags, fields, ts);
      if (!line) {
        reject(index, (prefix) => [{ path: prefix || '$', message: 'no known field in the reading' }]);
        continue;
      }
      result.accepted.push({ fields, ts, line });
    }
    if (rejection.readings)
      result.rejected.push({ raw: payload, reasons: rejection.reasons, readings: rejection.readings });
    return result;
  }

  /** Reported state: canonical field names of the device's family (`{"dim_percent":40}`). */
  state(
    device: Device,
    payload: Buffer,
  ): { ok: true; state: Record<string, unknown> } | { ok: false; reasons: Reason[] } {
    const parsed = parseJson(payload, this.#limits);
    if (!parsed.ok) return { ok: false, reasons: [parsed.reason] };
    if (!isObject(parsed.value))
      return { ok: false, reasons: [{ path: '$', message: 'state must be a JSON object' }] };
    const { ts: _ts, ...fields } = parsed.value;
    const schema = stateSchemas[device.family];
    const checked = schema.safeParse(fields);
    if (!checked.success) {
      const rejection = new Rejection();
      rejection.add(issuesToReasons(checked.error.issues, ''));
      return { ok: false, reasons: rejection.reasons };
    }
    const before = device.reportedState ?? {};
    let fieldCount = Object.keys(before).length;
    for (const key of Object.keys(checked.data)) if (!Object.hasOwn(before, key)) fieldCount++;
    if (fieldCount > MAX_STATE_FIELDS) {
      const message = `reported state would hold ${fieldCount} fields, more than ${MAX_STATE_FIELDS}`;
      return { ok: false, reasons: [{ path: '$', message }] };
    }
    return { ok: true, state: roundToPrecision(device.family, checked.data) };
  }
}
