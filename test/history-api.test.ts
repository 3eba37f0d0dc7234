import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { historyFixture, publishReadings } from './helpers/history-fixture.ts';
import { freePort } from './helpers/victoria.ts';

describe('device history and district summary API (embedded rollup store)', () => {
  let gw: TestGateway;
  const fixture = historyFixture(Date.now());
  const history = (query: string, token?: string) =>
    gw.api('GET', `/api/devices/sl-api-1/history?${query}`, undefined, token);

  beforeAll(async () => {
    gw = await startTestGateway();
    const dev = await gw.register({ id: 'sl-api-1', model: 'lumina-slc300', firmware: '1.0' });
    await publishReadings(gw, dev, fixture.readings);
  });
  afterAll(async () => gw?.stop());

  it.each([
    ['fields=lamp_on', 'querystring.fields: lamp_on: not a numeric field of streetlight'],
    ['fields=pm25_ugm3', 'querystring.fields: pm25_ugm3: not a numeric field of streetlight'],
    ['step=5x', "querystring.step: '5x' is not a duration"],
    ['step=30s', 'querystring.step: must be a whole number of minutes'],
    ['from=-48h&step=1m', 'querystring.step: 288'],
    ['from=yesterday', "querystring.from: 'yesterday' is not an ISO 8601 time"],
    ['from=2026-01-01T00:00:00', 'querystring.from: '],
    ['from=-1h&to=-2h', 'querystring.from: must be before to'],
    ['to=soon', "querystring.to: 'soon' is not"],
    ['fields=a,b,c,d,e,f,g,h,i', 'querystring.fields: at most 8 fields, got 9'],
  ])('refuses %s with a 400 naming the parameter', async (query, message) => {
    const res = await history(query);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('HIST_ERR_QUERY_INVALID');
    expect(res.body.message).toContain(message);
  });

  it('documents the history and district routes in the OpenAPI document', async () => {
    const doc = await gw.api('GET', '/api/openapi.json');
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        '/api/devices/{id}/history',
        '/api/districts',
        '/api/districts/{name}/summary',
      ]),
    );
  });

  it('needs a token and a known device', async () => {
    expect((await history('', 'not-a-token')).status).toBe(401);
    const res = await gw.api('GET', '/api/devices/nope/history');
    expect(res.status).toBe(404);
  });

  it('answers every numeric field when none is named, aligned to whole steps', async () => {
    const from = new Date(fixture.base + 90_000).toISOString();
    const to = new Date(fixture.base + 3600_000 - 90_000).toISOString();
    const res = await history(`from=${from}&to=${to}&step=5m`);
    expect(res.status).toBe(200);
    expect(res.body.from).toBe(fixture.from);
    expect(res.body.to).toBe(fixture.to);
    expect(Object.keys(res.body.fields)).toEqual([
      'dim_percent',
      'lamp_power_w',
      'ambient_lux',
      'burn_hours',
      'fault_code',
    ]);
    expect(res.body.fields.dim_percent).toHaveLength(4);
    expect(res.body.fields.fault_code).toEqual([]);
  });

  it('keeps history across a restart', async () => {
    const dataDir = gw.dataDir;
    await gw.stop({ keepData: true });
    gw = await startTestGateway({ dataDir });
    const res = await history(`fields=dim_percent&from=${fixture.from}&to=${fixture.to}&step=1h`);
    expect(res.body.fields.dim_percent).toEqual([
      expect.objectContaining({ t: fixture.from, count: 13, min: 5, max: 100, last: 5 }),
    ]);
  });

  it("lists Hanoi's 30 districts with device counts, paginated", async () => {
    const res = await gw.api('GET', '/api/districts');
    expect(res.status).toBe(200);
    expect(res.body.total).toBe(30);
    expect(res.body.districts.find((d: { name: string }) => d.name === 'Hoàn Kiếm')).toEqual({
      name: 'Hoàn Kiếm',
      devices: 1,
      online: 0,
      offline: 1,
      disabled: 0,
      openAlarms: 0,
    });
    const page = await gw.api('GET', '/api/districts?limit=5&offset=28');
    expect(page.body.districts.map((d: { name: string }) => d.name)).toHaveLength(2);
    expect((await gw.api('GET', '/api/districts?limit=500')).status).toBe(400);
  });

  it('summarises a district: devices by family and status, open alarms from the alarm service', async () => {
    await gw.register({ id: 'ws-api-1', model: 'aquanet-ws200', firmware: '1.0', district: 'Ba Đình' });
    const meter = await gw.register({
      id: 'em-api-1',
      model: 'vinasmart-em310',
      firmware: '1.0',
      district: 'Ba Đình',
    });
    await gw.api('PATCH', `/api/devices/${meter.id}`, { enabled: false });
    gw.gateway.history.useOpenAlarms((district) =>
      district === 'Ba Đình'
        ? { critical: 1, major: 2, minor: 0, warning: 3 }
        : { critical: 0, major: 0, minor: 0, warning: 0 },
    );
    const res = await gw.api('GET', `/api/districts/${encodeURIComponent('Ba Đình')}/summary`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      district: 'Ba Đình',
      devices: {
        total: 2,
        byFamily: {
          water_station: { online: 0, offline: 1, disabled: 0 },
          electricity_meter: { online: 0, offline: 0, disabled: 1 },
        },
      },
      openAlarms: { critical: 1, major: 2, minor: 0, warning: 3 },
      means: {
        source: 'rollup',
        byFamily: {
          water_station: { pressure_bar: null, flow_m3h: null },
          electricity_meter: { voltage_v: null, power_w: null },
        },
      },
    });
    const list = await gw.api('GET', '/api/districts?limit=1');
    expect(list.body.districts[0]).toMatchObject({ name: 'Ba Đình', devices: 2, openAlarms: 6 });
    expect((await gw.api('GET', '/api/districts/Atlantis/summary')).status).toBe(404);
  });
});

describe('history when InfluxDB does not answer', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    // Nothing listens there: the sink keeps readings in the outbox, history queries fail.
    gw = await startTestGateway({
      config: { INFLUX_URL: `http://127.0.0.1:${await freePort()}`, INFLUX_API: 'v1' },
    });
    await gw.register({ id: 'aq-down-1', model: 'airviet-aq5', firmware: '1.0', district: 'Tây Hồ' });
  });
  afterAll(async () => gw?.stop());

  it('answers 502 HIST_ERR_SOURCE_FAILED for history, and the summary still counts devices', async () => {
    const res = await gw.api('GET', '/api/devices/aq-down-1/history?fields=pm25_ugm3');
    expect(res.status).toBe(502);
    expect(res.body.code).toBe('HIST_ERR_SOURCE_FAILED');
    expect(res.body.message).toMatch(/^the history source influxdb failed: /);
    const summary = await gw.api('GET', `/api/districts/${encodeURIComponent('Tây Hồ')}/summary`);
    expect(summary.status).toBe(200);
    expect(summary.body.devices.total).toBe(1);
    expect(summary.body.means).toMatchObject({ source: 'influxdb', byFamily: {} });
    expect(summary.body.means.error).toMatch(/history source influxdb failed/);
  });
});
