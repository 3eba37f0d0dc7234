import { afterEach, beforeEach, expect, it } from 'vitest';
import type { MinuteRow, RollupStore } from '../../gateway/history/rollup-store.ts';

const row = (deviceId: string, field: string, minute: number, v: number, count = 1): MinuteRow => ({
  deviceId,
  field,
  minute,
  min: v,
  max: v,
  sum: v * count,
  count,
  last: v,
  lastTs: minute * 60_000 + 30_000,
});

/**
 * What every RollupStore must do (SQLite now, PostgreSQL for issue 11): call inside a describe()
 * with a factory that opens an empty store and a cleanup.
 */
export function rollupStoreContract(
  open: () => Promise<{ store: RollupStore; cleanup(): Promise<void> }>,
): void {
  let store: RollupStore;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ store, cleanup } = await open());
  });
  afterEach(async () => cleanup());

  it('reads back a series in minute order, only inside [from, to)', async () => {
    await store.merge([
      row('d1', 'f', 12, 3),
      row('d1', 'f', 10, 1),
      row('d1', 'f', 11, 2),
      row('d1', 'g', 11, 9),
    ]);
    const got = await store.minutes('d1', 'f', 10, 12);
    expect(got.map((m) => [m.minute, m.last])).toEqual([
      [10, 1],
      [11, 2],
    ]);
    expect(await store.minutes('d2', 'f', 0, 100)).toEqual([]);
  });

  it('merges a minute written twice: min, max, sum and count combine, last follows the later reading', async () => {
    await store.merge([row('d1', 'f', 10, 5, 2)]);
    await store.merge([{ ...row('d1', 'f', 10, 1), lastTs: 10 * 60_000 + 1000 }]);
    await store.merge([{ ...row('d1', 'f', 10, 8), lastTs: 10 * 60_000 + 50_000 }]);
    expect(await store.minutes('d1', 'f', 0, 100)).toEqual([
      { minute: 10, min: 1, max: 8, sum: 19, count: 4, last: 8, lastTs: 10 * 60_000 + 50_000 },
    ]);
  });

  it('totals a field over a set of devices', async () => {
    await store.merge([
      row('d1', 'f', 10, 2, 2),
      row('d2', 'f', 10, 4),
      row('d3', 'f', 10, 100),
      row('d1', 'f', 20, 50),
    ]);
    expect(await store.totals(['d1', 'd2', 'nobody'], 'f', 0, 20)).toEqual({ sum: 8, count: 3 });
    expect(await store.totals([], 'f', 0, 20)).toEqual({ sum: 0, count: 0 });
  });

  it('prunes minutes before a bound, a bounded number of series per call, until all are done', async () => {
    await store.merge(['d1', 'd2', 'd3'].flatMap((d) => [row(d, 'f', 5, 1), row(d, 'f', 15, 2)]));
    let deleted = 0;
    for (let i = 0; i < 3; i++) deleted += await store.prune(10, 1);
    expect(deleted).toBe(3);
    for (const d of ['d1', 'd2', 'd3'])
      expect((await store.minutes(d, 'f', 0, 100)).map((m) => m.minute)).toEqual([15]);
  });
}
