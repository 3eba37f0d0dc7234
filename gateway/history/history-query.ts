import type { Device } from '../../device-registry/devices.ts';
import { HistoryQueryError } from './errors.ts';
import { type HistoryRequest, historyFieldsOf } from './history-source.ts';

/** Bounds of one request: a chart needs no more, and a query stays cheap on both sources. */
export const HISTORY_LIMITS = {
  maxBuckets: 2000,
  maxFields: 8,
  minStepMs: 60_000,
  defaultStepMs: 5 * 60_000,
  defaultSpanMs: 24 * 3600_000,
} as const;

const UNIT_MS = { s: 1000, m: 60_000, h: 3600_000, d: 86_400_000 } as const;
const DURATION = /^(\d{1,6})(s|m|h|d)$/;
const RELATIVE = /^-(\d{1,6})(s|m|h|d)$/;

/** `5m`, `1h`, `30s`: milliseconds, or null when it is not a duration. */
export function parseDuration(text: string): number | null {
  const m = DURATION.exec(text.trim());
  return m ? Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS] : null;
}

/** `now`, `-24h` (before now), or an ISO 8601 time with a zone. */
export function parseTime(text: string, now: number): number | null {
  const t = text.trim();
  if (t === 'now') return now;
  const rel = RELATIVE.exec(t);
  if (rel) return now - Number(rel[1]) * UNIT_MS[rel[2] as keyof typeof UNIT_MS];
  // An ISO time without a zone would be read in the server's zone: refuse the ambiguity.
  if (!/^\d{4}-\d{2}-\d{2}(T[\d:.]+)?(Z|[+-]\d{2}:?\d{2})$/.test(t) && !/^\d{4}-\d{2}-\d{2}$/.test(t))
    return null;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? null : ms;
}

export interface RawHistoryQuery {
  fields?: string;
  from?: string;
  to?: string;
  step?: string;
}

const bad = (param: string, message: string) => new HistoryQueryError(`querystring.${param}: ${message}`);

/**
 * Checks a history request against the device's family and the bounds. `from` is moved back and
 * `to` forward to whole steps, so that both sources see whole buckets and agree.
 */
export function parseHistoryQuery(raw: RawHistoryQuery, device: Device, now: number): HistoryRequest {
  const known = historyFieldsOf(device.family);
  const fields = raw.fields
    ? [
        ...new Set(
          raw.fields
            .split(',')
            .map((f) => f.trim())
            .filter(Boolean),
        ),
      ]
    : [...known];
  if (fields.length === 0) throw bad('fields', 'name at least one field');
  if (fields.length > HISTORY_LIMITS.maxFields)
    throw bad('fields', `at most ${HISTORY_LIMITS.maxFields} fields, got ${fields.length}`);
  const unknown = fields.filter((f) => !known.includes(f));
  if (unknown.length)
    throw bad(
      'fields',
      `${unknown.join(', ')}: not a numeric field of ${device.family} (one of ${known.join(', ')})`,
    );

  const stepMs = raw.step === undefined ? HISTORY_LIMITS.defaultStepMs : parseDuration(raw.step);
  if (stepMs === null) throw bad('step', `'${raw.step}' is not a duration like 5m, 1h or 90s`);
  if (stepMs < HISTORY_LIMITS.minStepMs || stepMs % HISTORY_LIMITS.minStepMs !== 0)
    throw bad('step', 'must be a whole number of minutes (the rollup keeps 1-minute buckets)');

  const to = raw.to === undefined ? now : parseTime(raw.to, now);
  if (to === null) throw bad('to', `'${raw.to}' is not an ISO 8601 time with a zone, 'now' or like -24h`);
  const from = raw.from === undefined ? to - HISTORY_LIMITS.defaultSpanMs : parseTime(raw.from, now);
  if (from === null)
    throw bad('from', `'${raw.from}' is not an ISO 8601 time with a zone, 'now' or like -24h`);
  if (from >= to) throw bad('from', 'must be before to');

  const alignedFrom = Math.floor(from / stepMs) * stepMs;
  const alignedTo = Math.ceil(to / stepMs) * stepMs;
  const buckets = (alignedTo - alignedFrom) / stepMs;
  if (buckets > HISTORY_LIMITS.maxBuckets)
    throw bad(
      'step',
      `${buckets} buckets between from and to; at most ${HISTORY_LIMITS.maxBuckets}: choose a larger step or a shorter span`,
    );
  return { device, fields, from: alignedFrom, to: alignedTo, stepMs };
}

/** `300000` as `5m`, for answers and InfluxQL's GROUP BY time(). */
export function formatStep(ms: number): string {
  if (ms % UNIT_MS.d === 0) return `${ms / UNIT_MS.d}d`;
  if (ms % UNIT_MS.h === 0) return `${ms / UNIT_MS.h}h`;
  if (ms % UNIT_MS.m === 0) return `${ms / UNIT_MS.m}m`;
  return `${ms / 1000}s`;
}
