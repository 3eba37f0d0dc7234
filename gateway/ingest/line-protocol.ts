/**
 * InfluxDB line protocol, by hand because it is on the hot path and small
 * (https://docs.influxdata.com/influxdb/v2/reference/syntax/line-protocol/).
 * Timestamps are milliseconds: the sink writes with precision=ms.
 */
const MEASUREMENT_SPECIAL = /[,\s\\]/g;
const TAG_SPECIAL = /[,=\s\\]/g;
const FIELD_STRING_SPECIAL = /["\\]/g;

const escapeMeasurement = (s: string) =>
  s.replace(MEASUREMENT_SPECIAL, (c) => (c === '\n' ? '\\n' : `\\${c}`));
const escapeTag = (s: string) => s.replace(TAG_SPECIAL, (c) => (c === '\n' ? '\\n' : `\\${c}`));

export interface Point {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, unknown>;
  /** epoch milliseconds */
  ts: number;
}

/** Tags in key order, as InfluxDB recommends; empty tag values are left out (not allowed). */
export function tagSet(tags: Record<string, string>): string {
  let out = '';
  for (const key of Object.keys(tags).sort()) {
    const v = tags[key];
    if (v === undefined || v === '') continue;
    out += `,${escapeTag(key)}=${escapeTag(v)}`;
  }
  return out;
}

function fieldValue(v: unknown): string | undefined {
  switch (typeof v) {
    case 'number':
      return Number.isFinite(v) ? String(v) : undefined;
    case 'boolean':
      return v ? 'true' : 'false';
    case 'string':
      return `"${v.replace(FIELD_STRING_SPECIAL, (c) => `\\${c}`)}"`;
    default:
      return undefined;
  }
}

/** One line; `tags` is a prepared tagSet() so a device's tags are escaped once, not per reading. */
export function toLine(
  measurement: string,
  tags: string,
  fields: Record<string, unknown>,
  ts: number,
): string | null {
  let fieldSet = '';
  for (const key of Object.keys(fields)) {
    const v = fieldValue(fields[key]);
    if (v === undefined) continue;
    fieldSet += `${fieldSet ? ',' : ''}${escapeTag(key)}=${v}`;
  }
  if (!fieldSet) return null;
  return `${escapeMeasurement(measurement)}${tags} ${fieldSet} ${Math.round(ts)}`;
}

export function pointToLine(p: Point): string | null {
  return toLine(p.measurement, tagSet(p.tags), p.fields, p.ts);
}
