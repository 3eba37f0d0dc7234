import type { Config } from '../config.ts';
import type { LineBatch, Sink } from './sink.ts';

export interface InfluxV1SinkOptions {
  url: string;
  db: string;
  rp?: string;
  username?: string;
  password?: string;
  timeoutMs?: number;
}

/** A refused write; the pump reads `statusCode` (400, 413, 422: dead letters; others: retry). */
export class InfluxWriteError extends Error {
  readonly statusCode: number;
  constructor(statusCode: number, message: string) {
    super(message);
    this.name = 'InfluxWriteError';
    this.statusCode = statusCode;
  }
}

/**
 * InfluxDB 1.x write API: line protocol POSTed to `/write?db=…&rp=…&precision=ms`
 * (https://docs.influxdata.com/influxdb/v1/tools/api/#write-http-endpoint). 204 means written.
 * A 400 is a line the server cannot take (unparsable, a field type conflict); InfluxDB writes the
 * batch's valid points and names the refused one, and the pump's halving finds it: the same
 * mapping as the v2 sink. A 404 (no such database) or 5xx keeps the batch for a retry.
 */
export class InfluxV1Sink implements Sink {
  readonly name = 'influxdb-v1';
  readonly #url: URL;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number;

  constructor(opts: InfluxV1SinkOptions) {
    this.#url = new URL('/write', opts.url);
    this.#url.searchParams.set('db', opts.db);
    if (opts.rp) this.#url.searchParams.set('rp', opts.rp);
    this.#url.searchParams.set('precision', 'ms');
    this.#headers = { 'content-type': 'text/plain; charset=utf-8' };
    // Basic rather than u/p in the query string: a URL ends up in logs.
    if (opts.username)
      this.#headers.authorization = `Basic ${Buffer.from(`${opts.username}:${opts.password ?? ''}`).toString('base64')}`;
    this.#timeoutMs = opts.timeoutMs ?? 10_000;
  }

  async write(batch: LineBatch): Promise<void> {
    let res: Response;
    try {
      res = await fetch(this.#url, {
        method: 'POST',
        headers: this.#headers,
        body: batch.text,
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (err) {
      throw new Error(`influxdb-v1 write failed: ${(err as Error).message}`);
    }
    if (res.status === 204 || res.status === 200) {
      await res.body?.cancel();
      return;
    }
    const text = await res.text();
    let message = text;
    try {
      message = (JSON.parse(text) as { error?: string }).error ?? text;
    } catch {}
    throw new InfluxWriteError(res.status, `influxdb-v1 ${res.status}: ${message.slice(0, 500)}`);
  }

  async close(): Promise<void> {}
}

/** The v1 sink when the config asks for it (INFLUX_URL with INFLUX_API=v1), else undefined. */
export function influxV1SinkFrom(config: Config): InfluxV1Sink | undefined {
  if (!config.INFLUX_URL || config.INFLUX_API !== 'v1') return undefined;
  return new InfluxV1Sink({
    url: config.INFLUX_URL,
    db: config.INFLUX_DB ?? config.INFLUX_BUCKET,
    rp: config.INFLUX_RP,
    username: config.INFLUX_USERNAME,
    password: config.INFLUX_PASSWORD,
  });
}
