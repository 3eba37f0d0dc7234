import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Device } from '../../device-registry/devices.ts';
import type { Clock } from '../../gateway/clock.ts';
import { RollupHistory } from '../../gateway/history/rollup-history.ts';
import { type MinuteRow, SqliteRollupStore } from '../../gateway/history/rollup-store.ts';
import { createLogger } from '../../gateway/logger.ts';
import { createRng } from '../patterns.ts';

export interface HistoryBenchResult {
  devices: number;
  hours: number;
  rows: number;
  fillSeconds: number;
  dbBytes: number;
  queries: number;
  /** A device's last 24 h at 5-minute steps, through RollupHistory.history(), milliseconds. */
  queryMs: { median: number; p95: number; max: number };
  /** CPU time per query (the machine may be shared: wall time includes waiting for a core). */
  queryCpuMs: number;
  /** The flush of one minute of every device (5 fields each) in one transaction, milliseconds. */
  flushMinuteMs: number;
  /** The longest of those transactions: how long the event loop is held at once. */
  flushLongestTransactionMs: number;
  /** record() per reading on the ingest path, CPU microseconds. */
  recordUs: number;
}

const MINUTE = 60_000;
const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

/**
 * The embedded history store at city scale: `devices` x `hours` of 1-minute rows of one field
 * (pressure_bar), filled device by device (a compact B-tree: a real one, filled minute by minute,
 * has fuller page splits), then a device's last 24 h at 5-minute steps, timed.
 */
export async function measureHistory(opts: { devices?: number; hours?: number; queries?: number } = {}) {
  const devices = opts.devices ?? 10_000;
  const hours = opts.hours ?? 48;
  const queries = opts.queries ?? 200;
  const dir = mkdtempSync(join(tmpdir(), 'citygate-bench-history-'));
  const now = Math.floor(Date.UTC(2026, 10, 29, 12) / MINUTE) * MINUTE;
  const clock: Clock = { now: () => now, setTimeout: () => 0, clearTimeout: () => {} };
  const store = new SqliteRollupStore(join(dir, 'rollup.db'));
  const rollup = new RollupHistory({
    store,
    clock,
    log: createLogger('silent'),
    retentionMs: hours * 3600_000,
  });
  const rng = createRng(9);
  const minutes = hours * 60;
  const firstMinute = now / MINUTE - minutes;
  const started = performance.now();
  const perMerge = Math.max(1, Math.floor(100_000 / minutes));
  for (let d = 0; d < devices; d += perMerge) {
    const rows: MinuteRow[] = [];
    for (let k = d; k < Math.min(devices, d + perMerge); k++) {
      let v = 2 + rng.next();
      for (let m = 0; m < minutes; m++) {
        v = Math.max(0, v + (rng.next() - 0.5) * 0.05);
        const minute = firstMinute + m;
        rows.push({
          deviceId: `ws-bench-${k}`,
          field: 'pressure_bar',
          minute,
          min: v - 0.01,
          max: v + 0.01,
          sum: v * 4,
          count: 4,
          last: v,
          lastTs: minute * MINUTE + 45_000,
        });
      }
    }
    await store.merge(rows);
  }
  const fillSeconds = (performance.now() - started) / 1000;

  const device = (k: number) => ({ id: `ws-bench-${k}`, family: 'water_station' }) as Device;
  const times: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let q = 0; q < queries; q++) {
    const t0 = performance.now();
    const res = await rollup.history({
      device: device(Math.floor(rng.next() * devices)),
      fields: ['pressure_bar'],
      from: now - 24 * 3600_000,
      to: now,
      stepMs: 5 * MINUTE,
    });
    times.push(performance.now() - t0);
    if (res.pressure_bar.length !== Math.min(288, hours * 12))
      throw new Error(`expected 288 buckets, got ${res.pressure_bar.length}`);
  }
  const cpu = process.cpuUsage(cpu0);
  const queryCpuMs = (cpu.user + cpu.system) / 1000 / queries;
  times.sort((a, b) => a - b);

  // One minute of every device's readings: 4 readings x 5 fields, then their flush.
  const fields = ['pressure_bar', 'flow_m3h', 'turbidity_ntu', 'chlorine_mgl', 'ph'];
  const readings = Array.from({ length: devices }, () =>
    Object.fromEntries(fields.map((f) => [f, rng.next()])),
  );
  const ids = readings.map((_, k) => `ws-bench-${k}`);
  // The first minute creates the new series; the second is the steady state, measured.
  const minuteOf = (start: number) => {
    for (let k = 0; k < devices; k++)
      for (let r = 0; r < 4; r++) rollup.record(ids[k], readings[k], start + r * 15_000);
  };
  minuteOf(now - 2 * MINUTE);
  await rollup.flush();
  const t1 = process.cpuUsage();
  minuteOf(now - MINUTE);
  const recordCpu = process.cpuUsage(t1);
  const recordUs = (recordCpu.user + recordCpu.system) / (devices * 4);
  const merge = store.merge.bind(store);
  let longestMs = 0;
  store.merge = async (rows) => {
    const t = performance.now();
    await merge(rows);
    longestMs = Math.max(longestMs, performance.now() - t);
  };
  const t2 = performance.now();
  await rollup.flush();
  const flushMinuteMs = performance.now() - t2;

  const dbBytes =
    statSync(join(dir, 'rollup.db')).size +
    (statSync(join(dir, 'rollup.db-wal'), { throwIfNoEntry: false })?.size ?? 0);
  await rollup.stop();
  rmSync(dir, { recursive: true, force: true });
  return {
    devices,
    hours,
    rows: devices * minutes,
    fillSeconds,
    dbBytes,
    queries,
    queryCpuMs,
    queryMs: { median: quantile(times, 0.5), p95: quantile(times, 0.95), max: times[times.length - 1] },
    flushMinuteMs,
    flushLongestTransactionMs: longestMs,
    recordUs,
  } satisfies HistoryBenchResult;
}

/** The figures as the bench prints them. */
export function historySummary(r: HistoryBenchResult): string[] {
  return [
    `history (embedded rollup): ${r.devices} devices x ${r.hours} h of 1-minute rows = ${r.rows} rows, filled in ${r.fillSeconds.toFixed(1)} s, ${(r.dbBytes / 1024 ** 2).toFixed(0)} MiB`,
    `  a device's last 24 h at 5-minute steps (288 buckets), ${r.queries} queries: median ${r.queryMs.median.toFixed(2)} ms, p95 ${r.queryMs.p95.toFixed(2)} ms, max ${r.queryMs.max.toFixed(2)} ms wall, ${r.queryCpuMs.toFixed(2)} ms CPU each (target < 50 ms)`,
    `  ingest side: record() ${r.recordUs.toFixed(2)} µs CPU per reading (5 fields); flushing one minute of ${r.devices} devices x 5 fields: ${r.flushMinuteMs.toFixed(0)} ms in transactions of 500 rows, the longest ${r.flushLongestTransactionMs.toFixed(0)} ms`,
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: { devices: { type: 'string' }, hours: { type: 'string' }, queries: { type: 'string' } },
  });
  const r = await measureHistory({
    devices: values.devices ? Number(values.devices) : undefined,
    hours: values.hours ? Number(values.hours) : undefined,
    queries: values.queries ? Number(values.queries) : undefined,
  });
  for (const line of historySummary(r)) console.log(line);
}
