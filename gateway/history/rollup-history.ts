import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import type { Bucket, HistoryRequest, HistorySource, MeansRequest } from './history-source.ts';
import type { MinuteAggregate, MinuteRow, RollupStore } from './rollup-store.ts';

const MINUTE_MS = 60_000;

export interface RollupHistoryOptions {
  store: RollupStore;
  clock: Clock;
  log: Logger;
  retentionMs: number;
  /** How often closed minutes go to the store, in one transaction. */
  flushEveryMs?: number;
  /** Series pruned of expired minutes per flush (bounded work per tick). */
  pruneSeriesPerFlush?: number;
  /** Rows per transaction of a flush; the event loop runs between them. */
  rowsPerTransaction?: number;
}

type Pending = Map<string, Map<string, Map<number, MinuteAggregate>>>;

function fold(into: MinuteAggregate, m: MinuteAggregate): void {
  if (m.min < into.min) into.min = m.min;
  if (m.max > into.max) into.max = m.max;
  into.sum += m.sum;
  into.count += m.count;
  if (m.lastTs >= into.lastTs) {
    into.last = m.last;
    into.lastTs = m.lastTs;
  }
}

/** Minute aggregates folded into step buckets aligned to the epoch, in time order. */
export function toBuckets(minutes: Iterable<MinuteAggregate>, stepMs: number): Bucket[] {
  const buckets = new Map<number, MinuteAggregate>();
  for (const m of minutes) {
    const t = Math.floor((m.minute * MINUTE_MS) / stepMs) * stepMs;
    const b = buckets.get(t);
    if (b) fold(b, m);
    else buckets.set(t, { ...m, minute: t });
  }
  return [...buckets.values()]
    .sort((a, b) => a.minute - b.minute)
    .map((b) => ({
      t: b.minute,
      count: b.count,
      min: b.min,
      mean: b.sum / b.count,
      max: b.max,
      last: b.last,
    }));
}

/**
 * The embedded history source. Accepted readings are folded into the current minute in memory per
 * device and field (record(), called after each outbox commit); closed minutes go to the store
 * every few seconds in one transaction. Queries read the store and what is still in memory.
 */
export class RollupHistory implements HistorySource {
  readonly name = 'rollup' as const;
  readonly #store: RollupStore;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #retentionMs: number;
  readonly #flushEveryMs: number;
  readonly #pruneSeries: number;
  readonly #chunkRows: number;
  #pending: Pending = new Map();
  /** Rows handed to the store and not yet confirmed: still visible to queries. */
  #inflight: MinuteRow[] = [];
  #timer: unknown = null;
  #stopped = false;
  #flushing: Promise<void> | null = null;

  constructor(opts: RollupHistoryOptions) {
    this.#store = opts.store;
    this.#clock = opts.clock;
    this.#log = opts.log;
    this.#retentionMs = opts.retentionMs;
    this.#flushEveryMs = opts.flushEveryMs ?? 5000;
    this.#pruneSeries = opts.pruneSeriesPerFlush ?? 2000;
    this.#chunkRows = opts.rowsPerTransaction ?? 500;
  }

  /** One accepted reading: numeric fields only (booleans are not history, see history-source.ts). */
  record(deviceId: string, fields: Record<string, unknown>, ts: number): void {
    if (ts < this.#clock.now() - this.#retentionMs) return;
    const minute = Math.floor(ts / MINUTE_MS);
    for (const field in fields) {
      const v = fields[field];
      if (typeof v !== 'number' || !Number.isFinite(v)) continue;
      const byMinute = this.#minutesOf(deviceId, field);
      const acc = byMinute.get(minute);
      if (acc) fold(acc, { minute, min: v, max: v, sum: v, count: 1, last: v, lastTs: ts });
      else byMinute.set(minute, { minute, min: v, max: v, sum: v, count: 1, last: v, lastTs: ts });
    }
  }

  start(): void {
    const tick = () => {
      if (this.#stopped) return;
      this.#timer = this.#clock.setTimeout(() => {
        this.flush().finally(tick);
      }, this.#flushEveryMs);
    };
    tick();
  }

  /** Closed minutes (or, with `all`, every minute) to the store; then a bounded prune. */
  flush(all = false): Promise<void> {
    this.#flushing = (this.#flushing ?? Promise.resolve()).then(() => this.#flushNow(all));
    return this.#flushing;
  }

  async #flushNow(all: boolean): Promise<void> {
    const now = this.#clock.now();
    const open = Math.floor(now / MINUTE_MS);
    const rows: MinuteRow[] = [];
    for (const [deviceId, byField] of this.#pending) {
      for (const [field, byMinute] of byField) {
        for (const [minute, acc] of byMinute) {
          if (!all && minute >= open) continue;
          rows.push({ deviceId, field, ...acc });
          byMinute.delete(minute);
        }
        if (byMinute.size === 0) byField.delete(field);
      }
      if (byField.size === 0) this.#pending.delete(deviceId);
    }
    // In transactions of a bounded size, yielding between them: a city's minute (10,000 devices x
    // 5 fields) in one go would hold the event loop, and with it every PUBACK, for too long.
    let written = 0;
    this.#inflight = rows;
    try {
      while (written < rows.length) {
        const chunk = rows.slice(written, written + this.#chunkRows);
        await this.#store.merge(chunk);
        written += chunk.length;
        this.#inflight = rows.slice(written);
        if (written < rows.length) await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } catch (err) {
      // Kept in memory and tried again at the next flush: a rollup is never half lost silently.
      for (const r of rows.slice(written)) this.#restore(r);
      this.#log.error({ err, rows: rows.length - written }, 'rollup flush failed; retried at the next one');
    } finally {
      this.#inflight = [];
    }
    try {
      await this.#store.prune(Math.floor((now - this.#retentionMs) / MINUTE_MS), this.#pruneSeries);
    } catch (err) {
      this.#log.error({ err }, 'rollup prune failed');
    }
  }

  #minutesOf(deviceId: string, field: string): Map<number, MinuteAggregate> {
    let byField = this.#pending.get(deviceId);
    if (!byField) {
      byField = new Map();
      this.#pending.set(deviceId, byField);
    }
    let byMinute = byField.get(field);
    if (!byMinute) {
      byMinute = new Map();
      byField.set(field, byMinute);
    }
    return byMinute;
  }

  #restore(r: MinuteRow): void {
    const byMinute = this.#minutesOf(r.deviceId, r.field);
    const { deviceId: _d, field: _f, ...acc } = r;
    const newer = byMinute.get(r.minute);
    if (newer) fold(newer, acc);
    else byMinute.set(r.minute, acc);
  }

  /** What is not in the store yet, for one device and field, minutes in [from, to). */
  *#unstored(deviceId: string, field: string, from: number, to: number): Generator<MinuteAggregate> {
    const byMinute = this.#pending.get(deviceId)?.get(field);
    if (byMinute) for (const m of byMinute.values()) if (m.minute >= from && m.minute < to) yield m;
    for (const r of this.#inflight)
      if (r.deviceId === deviceId && r.field === field && r.minute >= from && r.minute < to) yield r;
  }

  async history(req: HistoryRequest): Promise<Record<string, Bucket[]>> {
    const from = Math.floor(req.from / MINUTE_MS);
    const to = Math.ceil(req.to / MINUTE_MS);
    const out: Record<string, Bucket[]> = {};
    for (const field of req.fields) {
      const stored = await this.#store.minutes(req.device.id, field, from, to);
      out[field] = toBuckets([...stored, ...this.#unstored(req.device.id, field, from, to)], req.stepMs);
    }
    return out;
  }

  async means(req: MeansRequest): Promise<Record<string, number | null>> {
    const from = Math.floor(req.from / MINUTE_MS);
    const to = Math.ceil(req.to / MINUTE_MS);
    const out: Record<string, number | null> = {};
    for (const field of req.fields) {
      let { sum, count } = await this.#store.totals(req.deviceIds, field, from, to);
      for (const id of req.deviceIds)
        for (const m of this.#unstored(id, field, from, to)) {
          sum += m.sum;
          count += m.count;
        }
      out[field] = count ? sum / count : null;
    }
    return out;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#clock.clearTimeout(this.#timer);
    await this.flush(true);
    this.#store.close();
  }
}
