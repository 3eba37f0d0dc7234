import { expect, it } from 'vitest';
import { measureAlarmCost } from '../simulators/bench/ingest-cost.ts';
import { specs } from './helpers/alarms.ts';

it('the alarm rules and counter sanity cost microseconds at most per reading (a micro-benchmark)', () => {
  const rows = measureAlarmCost(specs, 50_000, 1000);
  console.log(rows.map((r) => `${r.family}: ${Math.round(r.ns)} ns per reading`).join('\n'));
  expect(rows).toHaveLength(4);
  // The figure for the lead is the printed one; the bound only catches a gross regression on a
  // shared, busy machine.
  for (const r of rows) expect(r.ns, r.family).toBeLessThan(20_000);
});
