import { z } from 'zod';
import type { Device } from '../../device-registry/devices.ts';
import { type FirmwareSpec, findFirmware, type ModelSpec } from '../../firmware-specs/define-device.ts';
import { canonicalChecks, type Family, familySchemas } from '../../firmware-specs/families.ts';
import type { CounterSanity } from '../alarms/counter-sanity.ts';
import { tagSet, toLine } from './line-protocol.ts';
import { resolveTs } from './timestamp.ts';

export interface Reason {
  /** Field path in the raw payload, `$` for the whole of it. */
  path: string;
  message: string;
}

export interface Rejected {
  /** The raw reading (or the whole payload) that was refused. */
  raw: Buffer;
  reasons: Reason[];
}

export interface Accepted {
  fields: Record<string, unknown>;
  ts: number;
  line: string;
}

export interface NormalizeResult {
  accepted: Accepted[];
  rejected: Rejected[];
}

const issuesToReasons = (issues: readonly z.core.$ZodIssue[], prefix: string): Reason[] =>
  issues.map((i) => ({
    path:
      prefix +
        (i.path.length
          ? i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')
          : '') || '$',
    message: i.message,
  }));

function parseJson(payload: Buffer): { ok: true; value: unknown } | { ok: false; reason: Reason } {
  try {
    return { ok: true, value: JSON.parse(payload.toString('utf8')) };
  } catch (err) {
    return { ok: false, reason: { path: '$', message: `not JSON: ${(err as Error).message}` } };
  }
}

// Reported state: canonical fields are typed; other settings a device reports (its report
// interval) pass as scalars. Built once: a zod schema costs far more to build than to run.
const stateSchemas = Object.fromEntries(
  Object.entries(familySchemas).map(([family, schema]) => [
    family,
    schema.catchall(z.union([z.number(), z.boolean(), z.string()])),
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
  readonly #tags = new WeakMap<Device, string>();
  readonly #firmware = new WeakMap<Device, FirmwareSpec | null>();
  readonly #counters: CounterSanity | undefined;

  constructor(opts: { maxAgeMs: number; counters?: CounterSanity }) {
    this.#maxAgeMs = opts.maxAgeMs;
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

  telemetry(device: Device, spec: ModelSpec, payload: Buffer, receivedAt: number): NormalizeResult {
    const result: NormalizeResult = { accepted: [], rejected: [] };
    const parsed = parseJson(payload);
    if (!parsed.ok) {
      result.rejected.push({ raw: payload, reasons: [parsed.reason] });
      return result;
    }
    const firmware = this.#firmwareOf(device, spec);
    if (!firmware) {
      const reason = { path: '$', message: `model ${spec.id} has no firmware spec for ${device.firmware}` };
      result.rejected.push({ raw: payload, reasons: [reason] });
      return result;
    }
    const value = parsed.value;
    const items = Array.isArray(value) ? value : [value];
    if (items.length === 0) {
      result.rejected.push({ raw: payload, reasons: [{ path: '$', message: 'empty array: no reading' }] });
      return result;
    }
    const canonical = familySchemas[device.family];
    const canonicalCheck = canonicalChecks[device.family];
    const tags = this.#tagsOf(device);
    const many = Array.isArray(value);
    // What is refused is kept as it came: the whole payload, or the one element of an array.
    // Built only on refusal, so a valid reading allocates nothing for it.
    const reject = (index: number, item: unknown, reasons: (prefix: string) => Reason[]) => {
      result.rejected.push({
        raw: many ? Buffer.from(JSON.stringify(item)) : payload,
        reasons: reasons(many ? `[${index}]` : ''),
      });
    };
    for (let index = 0; index < items.length; index++) {
      const item = items[index];
      if (!isObject(item)) {
        reject(index, item, (prefix) => [
          { path: prefix || '$', message: 'a reading must be a JSON object' },
        ]);
        continue;
      }
      // Fast path first; zod runs only for what it rejects, to say why. `ts` is the envelope:
      // the layouts read only their own keys, so it needs no stripping.
      let fields = firmware.telemetry.decode(item);
      if (!fields) {
        const fw = firmware.telemetry.schema.safeParse(item);
        if (!fw.success) {
          reject(index, item, (prefix) => issuesToReasons(fw.error.issues, prefix));
          continue;
        }
        fields = fw.data;
      }
      if (!canonicalCheck(fields)) {
        const fam = canonical.safeParse(fields);
        if (!fam.success) {
          reject(index, item, (prefix) =>
            issuesToReasons(fam.error.issues, prefix).map((r) => ({
              ...r,
              message: `canonical ${r.message}`,
            })),
          );
          continue;
        }
        fields = fam.data;
      }
      const { ts } = resolveTs(item.ts, receivedAt, this.#maxAgeMs);
      // Counter sanity (issue 9): a suspicious counter step is tagged, never dropped.
      const counterCheck = this.#counters?.check(device, spec, fields, ts);
      if (counterCheck) fields = { ...fields, counter_check: counterCheck };
      const line = toLine(device.family, tags, fields, ts);
      if (!line) {
        reject(index, item, (prefix) => [{ path: prefix || '$', message: 'no known field in the reading' }]);
        continue;
      }
      result.accepted.push({ fields, ts, line });
    }
    return result;
  }

  /** Reported state: canonical field names of the device's family (`{"dim_percent":40}`). */
  state(
    device: Device,
    payload: Buffer,
  ): { ok: true; state: Record<string, unknown> } | { ok: false; reasons: Reason[] } {
    const parsed = parseJson(payload);
    if (!parsed.ok) return { ok: false, reasons: [parsed.reason] };
    if (!isObject(parsed.value))
      return { ok: false, reasons: [{ path: '$', message: 'state must be a JSON object' }] };
    const { ts: _ts, ...fields } = parsed.value;
    const schema = stateSchemas[device.family];
    const checked = schema.safeParse(fields);
    if (!checked.success) return { ok: false, reasons: issuesToReasons(checked.error.issues, '') };
    return { ok: true, state: checked.data };
  }
}
