import type { TestGateway } from './gateway.ts';

/**
 * A fixed set of streetlight readings with explicit `ts`, so buckets are deterministic, and the
 * buckets any history source must give for them (computed by hand, not by the code under test).
 * `base` is an hour boundary in the past, inside the rollup's retention.
 */
export function historyFixture(now: number) {
  const base = Math.floor((now - 3 * 3600_000) / 3600_000) * 3600_000;
  // Every 70 s from base: buckets of 5 minutes hold 5, 4 and 3 of them; one more 30 minutes in.
  const dims = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 15, 25];
  const readings = dims.map((dim, k) => ({ ts: base + k * 70_000, dim, p: dim * 1.5 }));
  readings.push({ ts: base + 30 * 60_000, dim: 5, p: 7.5 });
  const iso = (ms: number) => new Date(base + ms).toISOString();
  const expected5m = [
    { t: iso(0), count: 5, min: 10, mean: 30, max: 50, last: 50 },
    { t: iso(300_000), count: 4, min: 60, mean: 75, max: 90, last: 90 },
    { t: iso(600_000), count: 3, min: 15, mean: 140 / 3, max: 100, last: 25 },
    { t: iso(1_800_000), count: 1, min: 5, mean: 5, max: 5, last: 5 },
  ];
  const expected1h = [{ t: iso(0), count: 13, min: 5, mean: 595 / 13, max: 100, last: 5 }];
  return { base, readings, expected5m, expected1h, from: iso(0), to: iso(3600_000) };
}

/** Publishes the readings newest first: `last` must follow the readings' time, not their arrival. */
export async function publishReadings(
  gw: TestGateway,
  device: { id: string; secret: string },
  readings: Array<{ ts: number; dim: number; p: number }>,
): Promise<void> {
  const client = await gw.connect(device.id, device.secret);
  for (const r of [...readings].reverse())
    await client.publishAsync(
      `devices/${device.id}/telemetry`,
      JSON.stringify({ on: true, dim: r.dim, p: r.p, lux: 3, hrs: 100, ts: r.ts }),
      { qos: 1 },
    );
  await client.endAsync();
}
