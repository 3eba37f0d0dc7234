import { InfluxDB } from '@influxdata/influxdb-client';
import type { LineBatch, Sink } from './sink.ts';

export interface InfluxSinkOptions {
  url: string;
  token?: string;
  org: string;
  bucket: string;
  timeoutMs?: number;
}

/**
 * InfluxDB v2 write API through @influxdata/influxdb-client. The client's own retry buffer is
 * memory-only and drops lines (docs/design.md, pitfalls), so it is turned off: a failed write
 * rejects and the batch stays in the outbox for the pump to retry.
 */
export class InfluxSink implements Sink {
  readonly name = 'influxdb';
  readonly #influx: InfluxDB;
  readonly #opts: InfluxSinkOptions;
  readonly #gzipThreshold: number;

  constructor(opts: InfluxSinkOptions) {
    this.#opts = opts;
    // gzip pays off over a network; to a database on this very host it only spends CPU on both ends.
    const host = new URL(opts.url).hostname;
    const loopback = host === 'localhost' || host === '[::1]' || host.startsWith('127.');
    this.#gzipThreshold = loopback ? Number.POSITIVE_INFINITY : 4096;
    this.#influx = new InfluxDB({ url: opts.url, token: opts.token, timeout: opts.timeoutMs ?? 10_000 });
  }

  async write(batch: LineBatch): Promise<void> {
    const api = this.#influx.getWriteApi(this.#opts.org, this.#opts.bucket, 'ms', {
      batchSize: 2,
      flushInterval: 0,
      maxRetries: 0,
      maxBufferLines: 2,
      gzipThreshold: this.#gzipThreshold,
      writeFailed: (error: Error) => Promise.reject(error),
    });
    // One record holding all the lines: the client joins records with newlines anyway.
    api.writeRecord(batch.text);
    try {
      await api.flush();
    } finally {
      await api.close().catch(() => {});
    }
  }

  async close(): Promise<void> {}
}
