import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { findFirmware } from '../firmware-specs/define-device.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { exportSeries as exportSeriesFrom } from './helpers/victoria.ts';
import { eventually } from './helpers/wait.ts';

const vmUrl = () => inject('victoriaUrl');

const exportSeries = (selector: string) => exportSeriesFrom(vmUrl(), selector);

describe('telemetry from an MQTT device to the time-series database', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ influxUrl: vmUrl() });
  });
  afterAll(async () => gw?.stop());

  it('stores the normalized reading with the registry tags and the device timestamp', async () => {
    const id = `sl-e2e-${Date.now()}`;
    const { secret } = await gw.register({
      id,
      model: 'lumina-slc300',
      firmware: '2.1.0',
      district: 'Hoàn Kiếm',
      ward: 'Hàng Trống',
    });
    const client = await gw.connect(id, secret);
    const ts = Date.now() - 60_000;
    const raw = { drv: { state: 'ON', level: 55, power_dw: 612, hours: 1200.5 }, env: { lux: 2.5 }, ts };
    await client.publishAsync(`devices/${id}/telemetry`, JSON.stringify(raw), { qos: 1 });
    await client.endAsync();

    const series = await eventually(
      () => exportSeries(`{__name__=~"streetlight_.*",device_id="${id}"}`),
      (s) => s.length >= 5,
    );
    const byField = Object.fromEntries(series.map((s) => [s.metric.__name__, s]));
    expect(byField.streetlight_dim_percent.values).toEqual([55]);
    expect(byField.streetlight_lamp_power_w.values).toEqual([61.2]);
    expect(byField.streetlight_lamp_on.values).toEqual([1]);
    expect(byField.streetlight_burn_hours.values).toEqual([1200.5]);
    const tags = byField.streetlight_dim_percent.metric;
    expect(tags).toMatchObject({
      device_id: id,
      family: 'streetlight',
      model: 'lumina-slc300',
      firmware: '2.1.0',
      district: 'Hoàn Kiếm',
      ward: 'Hàng Trống',
    });
    expect(byField.streetlight_dim_percent.timestamps).toEqual([ts]);

    const device = await gw.api('GET', `/api/devices/${id}`);
    expect(device.body.lastReading).toMatchObject({ dim_percent: 55, lamp_on: true });
    expect(device.body.lastReadingAt).toBe(new Date(ts).toISOString());
  });

  it('accepts an array of readings in one message, each with its own timestamp', async () => {
    const spec = gw.gateway.ctx.specs.get('vinasmart-em310')!;
    const version = '1.0.3';
    const example = findFirmware(spec, version)!.example;
    const id = `em-e2e-${Date.now()}`;
    const { secret } = await gw.register({
      id,
      model: 'vinasmart-em310',
      firmware: version,
      district: 'Đống Đa',
      ward: 'Văn Miếu',
    });
    const client = await gw.connect(id, secret);
    const t0 = Date.now() - 120_000;
    const batch = [0, 1, 2].map((i) => ({ ...example, ts: new Date(t0 + i * 1000).toISOString() }));
    await client.publishAsync(`devices/${id}/telemetry`, JSON.stringify(batch), { qos: 1 });
    await client.endAsync();
    const series = await eventually(
      () => exportSeries(`{__name__="electricity_meter_energy_kwh",device_id="${id}"}`),
      (s) => (s[0]?.values.length ?? 0) >= 3,
    );
    expect(series[0].timestamps).toEqual([t0, t0 + 1000, t0 + 2000]);
    expect(series[0].metric.district).toBe('Đống Đa');
  });

  it('uses the receive time when the device clock is far ahead', async () => {
    const id = `sl-clock-${Date.now()}`;
    const { secret } = await gw.register({ id, model: 'lumina-slc300', firmware: '1.2' });
    const client = await gw.connect(id, secret);
    const before = Date.now();
    const raw = { on: false, dim: 0, p: 0, lux: 800, hrs: 5, ts: Date.now() + 3600_000 };
    await client.publishAsync(`devices/${id}/telemetry`, JSON.stringify(raw), { qos: 1 });
    const after = Date.now();
    await client.endAsync();
    const series = await eventually(
      () => exportSeries(`{__name__="streetlight_ambient_lux",device_id="${id}"}`),
      (s) => s.length > 0,
    );
    expect(series[0].timestamps[0]).toBeGreaterThanOrEqual(before);
    expect(series[0].timestamps[0]).toBeLessThanOrEqual(after);
  });
});

describe('archive sink', () => {
  it('writes line protocol to the data directory when no InfluxDB is configured', async () => {
    const gw = await startTestGateway();
    try {
      const id = 'sl-archive-1';
      const { secret } = await gw.register({
        id,
        model: 'lumina-slc300',
        firmware: '1.0.0',
        district: 'Tây Hồ',
        ward: 'Quảng An',
      });
      const client = await gw.connect(id, secret);
      await client.publishAsync(
        `devices/${id}/telemetry`,
        JSON.stringify({ on: true, dim: 80, p: 90, lux: 1, hrs: 7 }),
        {
          qos: 1,
        },
      );
      await client.endAsync();
      const { readFileSync, readdirSync } = await import('node:fs');
      const dir = `${gw.dataDir}/archive`;
      const content = await eventually(
        async () =>
          readdirSync(dir)
            .map((f) => readFileSync(`${dir}/${f}`, 'utf8'))
            .join(''),
        (c) => c.includes(id),
      );
      expect(content).toMatch(
        /^streetlight,device_id=sl-archive-1,district=Tây\\ Hồ,family=streetlight,firmware=1.0.0,model=lumina-slc300,ward=Quảng\\ An /m,
      );
      expect(content).toContain('dim_percent=80');
    } finally {
      await gw.stop();
    }
  });
});
