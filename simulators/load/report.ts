import type { LatencyHistogram } from './histogram.ts';
import type { PublishCounters, Rate } from './protocol.ts';

export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** What one load run did; counts are readings (one per PUBLISH). */
export interface LoadReport {
  target: string;
  devices: number;
  connected: number;
  connectionErrors: number;
  connectSeconds: number;
  disconnects: number;
  errorSamples: string[];
  qos: 0 | 1;
  rate: Rate;
  inflight: number;
  durationSeconds: number;
  sent: number;
  /** QoS 1: PUBACKs received; QoS 0 has no acknowledgement (null). */
  acknowledged: number | null;
  /** Sent but never acknowledged: the device still holds them and would retry (QoS 1). */
  unacknowledged: number;
  /** Open loop: readings the schedule wanted while the device had its maximum in flight. */
  throttled: number;
  /** Found in the time-series server afterwards; null when no server was given to check. */
  stored: number | null;
  /** Quarantined by the gateway during the run (its counter's increase); null for a bare broker. */
  quarantined: number | null;
  /** Acknowledged (QoS 1) or sent (QoS 0) readings neither stored nor quarantined. */
  lost: number | null;
  /** Acknowledged (QoS 1) or sent (QoS 0) readings per second over the publishing window. */
  throughput: number;
  /** Publish to PUBACK, milliseconds (QoS 1 only). */
  latencyMs: LatencySummary | null;
}

export function latencySummary(h: LatencyHistogram): LatencySummary | null {
  if (h.count === 0) return null;
  const ms = (us: number) => Math.round(us) / 1000;
  return {
    p50: ms(h.quantile(0.5)),
    p95: ms(h.quantile(0.95)),
    p99: ms(h.quantile(0.99)),
    max: ms(h.max),
    mean: ms(h.mean()),
  };
}

const n = (v: number | null) => (v === null ? 'n/a' : Math.round(v).toLocaleString('en-US'));
const ms = (v: number) => (v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0));

export function formatReport(r: LoadReport): string {
  const rows: [string, string][] = [
    ['target', r.target],
    [
      'devices',
      `${n(r.connected)} connected of ${n(r.devices)} in ${r.connectSeconds.toFixed(1)} s; ` +
        `connection errors ${n(r.connectionErrors)}, disconnects ${n(r.disconnects)}`,
    ],
    [
      'load',
      `QoS ${r.qos}, ${r.rate === 'max' ? `max rate (${r.inflight} in flight per device)` : `${n(r.rate)} readings/s`}, ${r.durationSeconds} s`,
    ],
    ['sent', n(r.sent)],
    ['acknowledged', r.acknowledged === null ? 'n/a (QoS 0 has no PUBACK)' : n(r.acknowledged)],
    ['unacknowledged', n(r.unacknowledged)],
    ...(r.throttled
      ? ([['throttled', `${n(r.throttled)} (a device had its window full)`]] as [string, string][])
      : []),
    ['stored', r.stored === null ? 'n/a (no time-series server to check)' : n(r.stored)],
    ['quarantined', n(r.quarantined)],
    ['lost', n(r.lost)],
    ['throughput', `${n(r.throughput)} readings/s`],
    [
      'latency',
      r.latencyMs
        ? `publish to PUBACK p50 ${ms(r.latencyMs.p50)} ms, p95 ${ms(r.latencyMs.p95)} ms, p99 ${ms(
            r.latencyMs.p99,
          )} ms, max ${ms(r.latencyMs.max)} ms`
        : 'n/a',
    ],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const lines = rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`);
  if (r.errorSamples.length)
    lines.push('  errors (first ones):', ...r.errorSamples.slice(0, 5).map((e) => `    ${e}`));
  return lines.join('\n');
}

/** A live progress line: rewritten in place on a terminal, a line every few seconds otherwise. */
export class ProgressLine {
  readonly #out: NodeJS.WriteStream;
  readonly #tty: boolean;
  #lastAt = 0;
  #lastSent = 0;
  #lastPrintAt = 0;
  #startedAt = Date.now();
  #wrote = false;

  constructor(out: NodeJS.WriteStream = process.stderr) {
    this.#out = out;
    this.#tty = Boolean(out.isTTY);
  }

  restart(): void {
    this.#startedAt = Date.now();
    this.#lastAt = 0;
    this.#lastSent = 0;
  }

  update(c: PublishCounters, h: LatencyHistogram, devices: number, qos: 0 | 1 = 1): void {
    const now = Date.now();
    if (now - this.#lastAt < 1000) return;
    const rate = this.#lastAt ? ((c.sent - this.#lastSent) * 1000) / (now - this.#lastAt) : 0;
    this.#lastAt = now;
    this.#lastSent = c.sent;
    const lat =
      qos === 1 && h.count
        ? `p50 ${ms(h.quantile(0.5) / 1000)} ms p99 ${ms(h.quantile(0.99) / 1000)} ms`
        : '';
    const line =
      `  ${((now - this.#startedAt) / 1000).toFixed(0).padStart(4)} s  online ${n(c.connected)}/${n(devices)}` +
      `  sent ${n(c.sent)} (${n(rate)}/s)  ${qos === 1 ? 'acked' : 'written'} ${n(c.acked)}` +
      `  in flight ${n(c.inflight)}  ${lat}` +
      `  errors ${n(c.failed + c.connectFailed + c.disconnects)}`;
    if (this.#tty) {
      this.#out.write(`\r${line.padEnd(this.#out.columns ? this.#out.columns - 1 : 120).slice(0, 200)}`);
      this.#wrote = true;
    } else if (now - this.#lastPrintAt >= 5000) {
      this.#lastPrintAt = now;
      this.#out.write(`${line}\n`);
    }
  }

  end(): void {
    if (this.#tty && this.#wrote) this.#out.write('\n');
    this.#wrote = false;
  }
}
