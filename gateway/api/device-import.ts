import { parse } from 'csv-parse/sync';
import type { NewDevice } from '../../device-registry/devices.ts';
import { newDeviceBody } from './schemas.ts';

/**
 * Bulk provisioning files (issue 12): CSV with a header line, or NDJSON (one JSON object a
 * line), each row what POST /api/devices takes. Bounded: IMPORT_MAX_BYTES of body (the route's
 * bodyLimit) and IMPORT_MAX_ROWS rows; at most IMPORT_MAX_ERRORS problems are listed.
 */
export const IMPORT_MAX_BYTES = 32 * 1024 * 1024;
export const IMPORT_MAX_ROWS = 100_000;
export const IMPORT_MAX_ERRORS = 1000;

export const CSV_COLUMNS = [
  'id',
  'model',
  'firmware',
  'district',
  'ward',
  'lat',
  'lon',
  'tags',
  'modbus_host',
  'modbus_port',
  'modbus_unit',
] as const;
const REQUIRED_COLUMNS = ['id', 'model', 'firmware', 'district', 'ward'];
/** Tags within one CSV cell. */
export const TAG_SEPARATOR = ';';

export interface RowError {
  line: number;
  field: string;
  message: string;
}

export interface ParsedImport {
  rows: Array<{ line: number; input: NewDevice }>;
  errors: RowError[];
  /** Rows in the file, valid or not. */
  total: number;
}

export type ImportFormat = 'csv' | 'ndjson';

/** The import format of a Content-Type, or null when it is neither CSV nor NDJSON. */
export function importFormat(contentType: string | undefined): ImportFormat | null {
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (type === 'text/csv') return 'csv';
  if (type === 'application/x-ndjson' || type === 'application/jsonl' || type === 'application/ndjson')
    return 'ndjson';
  return null;
}

export class ImportTooLargeError extends Error {}

/** Rows parsed and validated between two turns of the event loop: devices keep being served. */
const ROWS_PER_TURN = 2000;

/**
 * Parses and validates every row; a row's problems name its line and field. It hands the event
 * loop back every ROWS_PER_TURN rows, so a 100,000-row file does not hold CONNACKs and PUBACKs
 * for the seconds its validation takes.
 */
export async function parseImport(text: string, format: ImportFormat): Promise<ParsedImport> {
  const records = format === 'csv' ? csvRecords(text) : ndjsonRecords(text);
  const out: ParsedImport = { rows: [], errors: [], total: 0 };
  for (const record of records) {
    if (out.total % ROWS_PER_TURN === ROWS_PER_TURN - 1) await new Promise((r) => setImmediate(r));
    if (++out.total > IMPORT_MAX_ROWS)
      throw new ImportTooLargeError(`at most ${IMPORT_MAX_ROWS} rows per import`);
    if ('error' in record) {
      out.errors.push(record.error);
      continue;
    }
    const parsed = newDeviceBody.safeParse(record.value);
    if (parsed.success) {
      out.rows.push({ line: record.line, input: parsed.data });
      continue;
    }
    for (const issue of parsed.error.issues)
      out.errors.push({ line: record.line, field: fieldName(issue.path, format), message: issue.message });
  }
  return out;
}

type RawRecord = { line: number; value: Record<string, unknown> } | { error: RowError };

/** A zod path as the file names it: `modbus.port` is the CSV column `modbus_port`, `tags.3` is `tags`. */
function fieldName(path: ReadonlyArray<PropertyKey>, format: ImportFormat): string {
  const [head, sub] = path.map(String);
  if (head === 'modbus' && format === 'csv')
    return sub === 'host' ? 'modbus_host' : sub === 'port' ? 'modbus_port' : 'modbus_unit';
  if (head === 'tags') return 'tags';
  return path.map(String).join('.') || 'row';
}

/** A CSV cell to a value: empty is absent, numbers are numbers (zod names any other). */
function cell(value: string | undefined): unknown {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (v === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : v;
}

function fromColumns(columns: string[], cells: string[]): Record<string, unknown> {
  const at = (name: string) => {
    const i = columns.indexOf(name);
    return i < 0 ? undefined : cells[i];
  };
  const text = (name: string) => {
    const v = at(name)?.trim();
    return v === '' ? undefined : v;
  };
  const tags = text('tags');
  const host = text('modbus_host');
  const port = cell(at('modbus_port'));
  const unit = cell(at('modbus_unit'));
  return {
    id: text('id'),
    model: text('model'),
    firmware: text('firmware'),
    district: text('district'),
    ward: text('ward'),
    lat: cell(at('lat')),
    lon: cell(at('lon')),
    tags: tags?.split(TAG_SEPARATOR).map((t) => t.trim()),
    modbus:
      host !== undefined || port !== undefined || unit !== undefined
        ? { host, port: port ?? 502, unitId: unit ?? 1 }
        : undefined,
  };
}

function* csvRecords(text: string): Generator<RawRecord> {
  const [header, ...lines] = csvRows(text);
  if (!header) return;
  if ('error' in header) {
    yield header;
    return;
  }
  const columns = header.cells.map((c) => c.trim().toLowerCase());
  const unknown = columns.filter((c) => !(CSV_COLUMNS as readonly string[]).includes(c));
  const missing = REQUIRED_COLUMNS.filter((c) => !columns.includes(c));
  if (unknown.length || missing.length) {
    const why = [
      ...(missing.length ? [`missing column(s) ${missing.join(', ')}`] : []),
      ...(unknown.length ? [`unknown column(s) ${unknown.join(', ')}`] : []),
    ].join('; ');
    yield { error: { line: 1, field: 'header', message: `${why} (columns: ${CSV_COLUMNS.join(',')})` } };
    return;
  }
  for (const row of lines) {
    if ('error' in row) {
      yield row;
      continue;
    }
    const { line, cells } = row;
    if (cells.length === 1 && cells[0].trim() === '') continue; // a blank line
    if (cells.length !== columns.length) {
      yield {
        error: {
          line,
          field: 'row',
          message: `${cells.length} cells where the header has ${columns.length}`,
        },
      };
      continue;
    }
    yield { line, value: fromColumns(columns, cells) };
  }
}

/**
 * RFC 4180 records (csv-parse) with the line each starts on: quoted cells may hold commas, quotes
 * ("") and newlines. A record csv-parse cannot read (a stray or unclosed quote) is reported on its
 * line and the others are still read, so a partial import keeps them.
 */
function csvRows(text: string): Array<{ line: number; cells: string[] } | { error: RowError }> {
  const out: Array<{ line: number; cells: string[] } | { error: RowError }> = [];
  const records = parse(text, {
    bom: true,
    info: true,
    relax_column_count: true,
    skip_empty_lines: false,
    record_delimiter: ['\r\n', '\n'],
    skip_records_with_error: true,
    on_skip: (err) => {
      const line = Number(err?.lines);
      const last = out.at(-1);
      // One record can fail on several quotes: its line is named once.
      if (err && !(last && 'error' in last && last.error.line === line))
        out.push({ error: { line, field: 'row', message: err.message } });
    },
  }) as unknown as Array<{ record: string[]; info: { lines: number } }>; // with info: true
  for (const { record, info } of records) {
    // info.lines is the line the record ends on; newlines inside its quoted cells come before.
    let inner = 0;
    for (const c of record) for (let i = c.indexOf('\n'); i >= 0; i = c.indexOf('\n', i + 1)) inner++;
    out.push({ line: info.lines - inner, cells: record });
  }
  return out.sort((a, b) => ('error' in a ? a.error.line : a.line) - ('error' in b ? b.error.line : b.line));
}

function* ndjsonRecords(text: string): Generator<RawRecord> {
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const raw = lines[n].trim();
    if (raw === '') continue;
    const line = n + 1;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      yield { error: { line, field: 'row', message: `not JSON: ${(err as Error).message}` } };
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      yield { error: { line, field: 'row', message: 'expected a JSON object' } };
      continue;
    }
    const o = value as Record<string, unknown>;
    // The flat Modbus fields of the CSV are accepted too.
    if (o.modbus === undefined && (o.modbus_host ?? o.modbus_port ?? o.modbus_unit) !== undefined)
      o.modbus = { host: o.modbus_host, port: o.modbus_port ?? 502, unitId: o.modbus_unit ?? 1 };
    yield { line, value: o };
  }
}

/** The installers' file: one `id,secret` line per device that has an MQTT secret. */
export function secretsCsv(
  created: ReadonlyArray<{ device: { id: string }; secret: string | null }>,
): string {
  const lines = ['id,secret'];
  for (const { device, secret } of created) if (secret) lines.push(`${device.id},${secret}`);
  return `${lines.join('\n')}\n`;
}
