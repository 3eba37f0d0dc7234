import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { type Influxd, startInfluxd } from './helpers/influxd.ts';

/** INFLUX_API=v1: readings go to a real InfluxDB 1.x (Debian's influxd) through `/write`. */
describe('InfluxDB 1.x sink', () => {
  let influxd: Influxd;
  const gateways: TestGateway[] = [];
  const start = async (db: string) => {
    const gw = await startTestGateway({
      config: { INFLUX_URL: influxd.url, INFLUX_API: 'v1', INFLUX_DB: db },
    });
    gateways.push(gw);
    return gw;
  };
  const publish = async (gw: TestGateway, id: string, readings: Array<{ dim: number; ts: number }>) => {
    const dev = await gw.register({
      id,
      model: 'lumina-slc300',
      firmware: '1.0',
      district: 'Hoàn Kiếm',
      ward: 'Hàng Bạc',
    });
    const client = await gw.connect(dev.id, dev.secret);
    for (const r of readings)
      await client.publishAsync(
        `devices/${id}/telemetry`,
        JSON.stringify({ on: true, dim: r.dim, p: 10, lux: 3, hrs: 100, ts: r.ts }),
        { qos: 1 },
      );
    await client.endAsync();
  };
  const written = async (gw: TestGateway) => (await gw.api('GET', '/api/stats')).body;

  beforeAll(async () => {
    influxd = await startInfluxd();
  });
  afterAll(async () => {
    for (const gw of gateways) await gw.stop();
    await influxd?.stop();
  });

  it('writes readings that come back from /query with their tags and millisecond times', async () => {
    await influxd.createDatabase('v1ok');
    const gw = await start('v1ok');
    const t0 = Date.now() - 60_000;
    await publish(gw, 'sl-v1-1', [
      { dim: 40, ts: t0 + 1 },
      { dim: 55, ts: t0 + 2 },
    ]);
    await vi.waitFor(async () => expect((await written(gw)).written).toBe(2), { timeout: 10_000 });
    const [result] = await influxd.query(
      `SELECT dim_percent, lamp_on, district, ward, model FROM streetlight WHERE device_id = 'sl-v1-1'`,
      'v1ok',
    );
    expect(result.series?.[0].values).toEqual([
      [t0 + 1, 40, true, 'Hoàn Kiếm', 'Hàng Bạc', 'lumina-slc300'],
      [t0 + 2, 55, true, 'Hoàn Kiếm', 'Hàng Bạc', 'lumina-slc300'],
    ]);
    expect((await written(gw)).sink).toMatchObject({ name: 'influxdb-v1', up: true });
  });

  it('keeps readings in the outbox while the database does not exist (404), and writes them once it does', async () => {
    const gw = await start('later');
    await publish(gw, 'sl-v1-2', [{ dim: 12, ts: Date.now() - 1000 }]);
    await vi.waitFor(async () => expect((await written(gw)).sink.up).toBe(false), { timeout: 10_000 });
    expect(await written(gw)).toMatchObject({ buffered: 1, written: 0, deadLettered: 0 });
    await influxd.createDatabase('later');
    await vi.waitFor(async () => expect(await written(gw)).toMatchObject({ buffered: 0, written: 1 }), {
      timeout: 20_000,
    });
  });

  it('keeps a line InfluxDB refuses (400, a field type conflict) as a dead letter; the outbox moves on', async () => {
    await influxd.createDatabase('conflict');
    // dim_percent already exists as a string in this database: a number for it is refused.
    // Field types are kept per shard, and a shard holds a week from Monday 00:00 UTC: the two
    // points are a millisecond apart (an hour apart, the test failed in the first hour of a week).
    const at = Date.now() - 1000;
    const res = await fetch(`${influxd.url}/write?db=conflict&precision=ms`, {
      method: 'POST',
      body: `streetlight,device_id=old dim_percent="high" ${at - 1}`,
    });
    expect(res.status).toBe(204);
    const gw = await start('conflict');
    await publish(gw, 'sl-v1-3', [{ dim: 20, ts: at }]);
    await vi.waitFor(async () => expect((await written(gw)).deadLettered).toBe(1), { timeout: 10_000 });
    const letters = await gw.api('GET', '/api/sink/dead-letters');
    expect(letters.body.entries[0].line).toContain('sl-v1-3');
    expect(letters.body.entries[0].reason).toMatch(/influxdb-v1 400: .*field type conflict/);
    expect((await written(gw)).buffered).toBe(0);
  });
});
