import { HistorySourceError } from './errors.ts';
import type { Bucket, HistoryRequest, HistorySource, MeansRequest } from './history-source.ts';

/**
 * InfluxQL quoting (influxql/scanner.go, ScanString): inside quotes a backslash escapes `\`, the
 * quote and `n`; a raw newline ends the statement as a bad string. Device ids, districts and
 * field names go through these, never into the text as they are.
 */
const escapeQuoted = (s: string, quote: string) =>
  s.replace(/\\/g, '\\\\').replace(new RegExp(quote, 'g'), `\\${quote}`).replace(/\n/g, '\\n');
export const quoteIdent = (s: string) => `"${escapeQuoted(s, '"')}"`;
export const quoteString = (s: string) => `'${escapeQuoted(s, "'")}'`;

/** `time` bounds as epoch literals with a unit: no time-zone or format question arises. */
const timeRange = (from: number, to: number) => `time >= ${Math.floor(from)}ms AND time < ${Math.ceil(to)}ms`;

export function historyStatement(req: HistoryRequest, field: string): string {
  const f = quoteIdent(field);
  return (
    `SELECT count(${f}), min(${f}), mean(${f}), max(${f}), last(${f}) FROM ${quoteIdent(req.device.family)}` +
    ` WHERE "device_id" = ${quoteString(req.device.id)} AND ${timeRange(req.from, req.to)}` +
    ` GROUP BY time(${req.stepMs}ms) fill(none)`
  );
}

export function meansStatement(req: MeansRequest, field: string): string {
  return (
    `SELECT mean(${quoteIdent(field)}) FROM ${quoteIdent(req.family)}` +
    ` WHERE "district" = ${quoteString(req.district)} AND ${timeRange(req.from, req.to)}`
  );
}

export interface InfluxQlOptions {
  url: string;
  /** InfluxDB 1.x database; 2.x: a bucket mapped to a database (DBRP); 3.x: the database. */
  db: string;
  rp?: string;
  /** 2.x and 3.x: sent as `Authorization: Token …`. */
  token?: string;
  /** 1.x authentication (Basic). */
  username?: string;
  password?: string;
  timeoutMs?: number;
}

interface QueryResult {
  error?: string;
  series?: Array<{ columns: string[]; values: Array<Array<number | null>> }>;
}

/**
 * History from InfluxDB through InfluxQL on `/query`: InfluxDB 1.x natively, 2.x through its v1
 * compatibility API (token auth, DBRP mapping), 3.x natively. One statement per field, sent
 * together; times come back as epoch ms (`epoch=ms`).
 */
export class InfluxQlHistory implements HistorySource {
  readonly name = 'influxdb' as const;
  readonly #opts: InfluxQlOptions;

  constructor(opts: InfluxQlOptions) {
    this.#opts = opts;
  }

  async #query(statements: string[]): Promise<QueryResult[]> {
    const { url, db, rp, token, username, password, timeoutMs = 10_000 } = this.#opts;
    const body = new URLSearchParams({ db, epoch: 'ms', q: statements.join(';\n') });
    if (rp) body.set('rp', rp);
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (token) headers.authorization = `Token ${token}`;
    else if (username)
      headers.authorization = `Basic ${Buffer.from(`${username}:${password ?? ''}`).toString('base64')}`;
    let res: Response;
    try {
      res = await fetch(new URL('/query', url), {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new HistorySourceError('influxdb', (err as Error).message);
    }
    const text = await res.text();
    if (!res.ok) throw new HistorySourceError('influxdb', `${res.status} ${text.slice(0, 300)}`);
    const results = (JSON.parse(text) as { results?: QueryResult[] }).results ?? [];
    const failed = results.find((r) => r.error);
    if (failed) throw new HistorySourceError('influxdb', String(failed.error));
    return results;
  }

  async history(req: HistoryRequest): Promise<Record<string, Bucket[]>> {
    const results = await this.#query(req.fields.map((f) => historyStatement(req, f)));
    const out: Record<string, Bucket[]> = {};
    req.fields.forEach((field, i) => {
      const rows = results[i]?.series?.[0]?.values ?? [];
      out[field] = rows
        .filter((r) => typeof r[1] === 'number' && r[1] > 0)
        .map(([t, count, min, mean, max, last]) => ({
          t: t as number,
          count: count as number,
          min: min as number,
          mean: mean as number,
          max: max as number,
          last: last as number,
        }));
    });
    return out;
  }

  async means(req: MeansRequest): Promise<Record<string, number | null>> {
    const results = await this.#query(req.fields.map((f) => meansStatement(req, f)));
    return Object.fromEntries(
      req.fields.map((field, i) => [field, (results[i]?.series?.[0]?.values?.[0]?.[1] as number) ?? null]),
    );
  }
}
