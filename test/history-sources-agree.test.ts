import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { historyFixture, publishReadings } from './helpers/history-fixture.ts';
import { type Influxd, startInfluxd } from './helpers/influxd.ts';

/**
 * The same readings, published through two real gateways: one on the embedded rollup store, one
 * writing to a real influxd (INFLUX_API=v1) and reading history back through InfluxQL. Both must
 * answer with the same, hand-computed buckets.
 */
describe('history from the rollup store and from InfluxDB agree', () => {
  let influxd: Influxd;
  let embedded: TestGateway;
  let influx: TestGateway;
  const fixture = historyFixture(Date.now());
  // Quotes and diacritics: the district goes into InfluxQL as a string literal.
  const district = `Đống Đa "O'Hara" 1`;

  beforeAll(async () => {
    influxd = await startInfluxd();
    await influxd.createDatabase('city');
    embedded = await startTestGateway();
    influx = await startTestGateway({
      config: { INFLUX_URL: influxd.url, INFLUX_API: 'v1', INFLUX_DB: 'city' },
    });
    for (const gw of [embedded, influx]) {
      const dev = await gw.register({ id: 'sl-hist-1', model: 'lumina-slc300', firmware: '1.0' });
      await publishReadings(gw, dev, fixture.readings);
      const hostile = await gw.register({
        id: 'sl-hist-2',
        model: 'lumina-slc300',
        firmware: '1.0',
        district,
      });
      const now = Date.now();
      await publishReadings(gw, hostile, [
        { ts: now - 20 * 60_000, dim: 30, p: 40 },
        { ts: now - 10 * 60_000, dim: 60, p: 80 },
        // Outside the summary's last hour: not in its means.
        { ts: now - 2 * 3600_000, dim: 100, p: 100 },
      ]);
    }
    // influxd has them once the sink has written them all.
    await vi.waitFor(
      async () =>
        expect((await influx.api('GET', '/api/stats')).body.written).toBe(fixture.readings.length + 3),
      { timeout: 15_000, interval: 100 },
    );
  });
  afterAll(async () => {
    await embedded?.stop();
    await influx?.stop();
    await influxd?.stop();
  });

  const history = (gw: TestGateway, query: string) =>
    gw.api('GET', `/api/devices/sl-hist-1/history?${query}`);

  for (const [step, key] of [
    ['5m', 'expected5m'],
    ['1h', 'expected1h'],
  ] as const) {
    it(`gives the expected ${step} buckets from both sources`, async () => {
      const q = new URLSearchParams({
        fields: 'dim_percent,lamp_power_w',
        from: fixture.from,
        to: fixture.to,
        step,
      });
      for (const [gw, source] of [
        [embedded, 'rollup'],
        [influx, 'influxdb'],
      ] as const) {
        const res = await history(gw, q.toString());
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({
          deviceId: 'sl-hist-1',
          source,
          step,
          from: fixture.from,
          to: fixture.to,
        });
        const dims = res.body.fields.dim_percent;
        expect(dims.map((b: { t: string }) => b.t)).toEqual(fixture[key].map((b) => b.t));
        fixture[key].forEach((want, i) => {
          expect(dims[i]).toMatchObject({
            t: want.t,
            count: want.count,
            min: want.min,
            max: want.max,
            last: want.last,
          });
          expect(dims[i].mean).toBeCloseTo(want.mean, 9);
        });
        // lamp_power_w is dim * 1.5 in the fixture.
        expect(res.body.fields.lamp_power_w.map((b: { max: number }) => b.max)).toEqual(
          fixture[key].map((b) => b.max * 1.5),
        );
      }
    });
  }

  it('answers a span with no readings with empty buckets from both', async () => {
    for (const gw of [embedded, influx]) {
      const res = await history(gw, 'fields=dim_percent&from=-10m&to=now&step=1m');
      expect(res.status).toBe(200);
      expect(res.body.fields).toEqual({ dim_percent: [] });
    }
  });

  it('gives the same district means over the last hour, with a district name full of quotes', async () => {
    for (const gw of [embedded, influx]) {
      const res = await gw.api('GET', `/api/districts/${encodeURIComponent(district)}/summary`);
      expect(res.status).toBe(200);
      expect(res.body.means.error).toBeUndefined();
      expect(res.body.devices).toEqual({
        total: 1,
        byFamily: { streetlight: { online: 0, offline: 1, disabled: 0 } },
      });
      expect(res.body.means.byFamily.streetlight.dim_percent).toBeCloseTo(45, 9);
      expect(res.body.means.byFamily.streetlight.lamp_power_w).toBeCloseTo(60, 9);
    }
  });
});
