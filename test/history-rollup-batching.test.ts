import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Device } from '../device-registry/devices.ts';
import { RollupHistory } from '../gateway/history/rollup-history.ts';
import { type MinuteRow, SqliteRollupStore } from '../gateway/history/rollup-store.ts';
import { createLogger } from '../gateway/logger.ts';
import { FakeClock } from './helpers/fake-clock.ts';

const MIN = 60_000;
const HOUR = 3600_000;
const device = { id: 'ws-roll-1', family: 'water_station' } as Device;

/** The rollup's write path and retention, on a fake clock and a real SQLite file. */
describe('rollup store batching and retention', () => {
  let dir: string;
  let clock: FakeClock;
  let store: SqliteRollupStore;
  let merges: number[];
  let rollup: RollupHistory;
  const start = Math.floor(Date.UTC(2026, 10, 29, 8) / HOUR) * HOUR;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'citygate-rollup-'));
    clock = new FakeClock(start);
    store = new SqliteRollupStore(join(dir, 'rollup.db'));
    merges = [];
    const merge = store.merge.bind(store);
    store.merge = (rows: readonly MinuteRow[]) => {
      merges.push(rows.length);
      return merge(rows);
    };
    rollup = new RollupHistory({ store, clock, log: createLogger('silent'), retentionMs: 48 * HOUR });
    rollup.start();
  });
  afterEach(async () => {
    await rollup.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const hour = (from: number, to = from + HOUR) =>
    rollup.history({ device, fields: ['pressure_bar'], from, to, stepMs: HOUR });

  it('writes closed minutes in batched transactions every few seconds, and answers the open one from memory', async () => {
    // 600 readings over 3 minutes: the first two minutes close, the third is the current one.
    clock.advance(2 * MIN);
    for (let i = 0; i < 600; i++)
      rollup.record(device.id, { pressure_bar: 2 + (i % 10) / 10, valve_percent: 50 }, start + i * 300);
    expect(merges).toEqual([]);
    expect((await hour(start)).pressure_bar).toEqual([
      { t: start, count: 600, min: 2, mean: expect.closeTo(2.45, 9), max: 2.9, last: 2.9 },
    ]);
    clock.advance(5000);
    await rollup.flush();
    // Two closed minutes of two fields in the first flush; the open minute still waits.
    expect(merges[0]).toBe(4);
    expect((await store.minutes(device.id, 'pressure_bar', 0, Number.MAX_SAFE_INTEGER)).length).toBe(2);
    expect((await hour(start)).pressure_bar[0].count).toBe(600);
  });

  it('merges a late reading into a minute already written', async () => {
    rollup.record(device.id, { pressure_bar: 3 }, start + 10_000);
    clock.advance(MIN + 5000);
    await rollup.flush();
    rollup.record(device.id, { pressure_bar: 1 }, start + 5_000);
    rollup.record(device.id, { pressure_bar: 5 }, start + 20_000);
    clock.advance(5000);
    await rollup.flush();
    const [row] = await store.minutes(device.id, 'pressure_bar', 0, Number.MAX_SAFE_INTEGER);
    expect(row).toMatchObject({ min: 1, max: 5, sum: 9, count: 3, last: 5, lastTs: start + 20_000 });
  });

  it('ignores readings older than the retention and prunes minutes as they expire', async () => {
    rollup.record(device.id, { pressure_bar: 9 }, start - 49 * HOUR);
    rollup.record(device.id, { pressure_bar: 2 }, start - 47 * HOUR);
    rollup.record(device.id, { pressure_bar: 3 }, start);
    clock.advance(MIN + 5000);
    await rollup.flush();
    expect((await hour(start - 49 * HOUR)).pressure_bar).toEqual([]);
    expect((await hour(start - 47 * HOUR)).pressure_bar).toHaveLength(1);
    clock.advance(2 * HOUR);
    await rollup.flush();
    expect((await hour(start - 47 * HOUR)).pressure_bar).toEqual([]);
    expect((await hour(start)).pressure_bar).toHaveLength(1);
  });
});
