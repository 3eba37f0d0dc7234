import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAMILIES, fieldFormats, roundToPrecision } from '../firmware-specs/families.ts';
import { loadSpecs } from '../firmware-specs/index.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';

describe('readings rounded to their declared precision', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(async () => gw?.stop());

  async function publish(id: string, firmware: string, reading: Record<string, unknown>) {
    const dev = await gw.register({ id, model: 'airviet-aq5', firmware });
    const client = await gw.connect(dev.id, dev.secret);
    await client.publishAsync(`devices/${id}/telemetry`, JSON.stringify(reading), { qos: 1 });
    await client.endAsync();
    await expect
      .poll(
        async () =>
          (await gw.api('GET', `/api/devices/${id}`)).body.lastReading ??
          (await gw.api('GET', `/api/quarantine?deviceId=${id}`)).body.entries[0]?.reasons,
      )
      .not.toBeNull();
    expect((await gw.api('GET', `/api/quarantine?deviceId=${id}`)).body.entries).toEqual([]);
    return (await gw.api('GET', `/api/devices/${id}`)).body.lastReading;
  }

  it('a sensor value with float noise is stored at the field precision', async () => {
    const reading = await publish('aq-prec-2', '2.0', {
      pm: { p25: 38.24999999999, p10: 61.5 },
      gas: { no2: 42, o3: 55.3, co: 824.4, so2: 8.1 },
      env: { t: 27.0000000001, rh: 78.5 },
    });
    expect(reading).toMatchObject({ temperature_c: 27, pm25_ugm3: 38.2, humidity_pct: 78.5, co_mgm3: 0.824 });
  });

  it('a scaled register (tenths of a degree above -40 °C, CO in ppb) is stored without float noise', async () => {
    expect(671 * 0.1 - 40).not.toBe(27.1); // the noise this fixes
    const reading = await publish('aq-prec-1', '1.0', {
      pm25: 10,
      pm10: 20,
      no2: 42,
      o3: 55.3,
      co_ppb: 720,
      so2: 8.1,
      t_dk: 671,
      rh: 78.5,
    });
    expect(reading).toMatchObject({ temperature_c: 27.1, co_mgm3: 0.824, pm25_ugm3: 10 });
  });

  it('every canonical number field of every family declares a unit and its decimals', async () => {
    const specs = await loadSpecs();
    for (const family of FAMILIES) {
      const formats = fieldFormats[family] as Record<string, { unit: string; decimals?: number }>;
      const spec = [...specs.values()].find((s) => s.family === family);
      expect(spec, family).toBeDefined();
      for (const [field, format] of Object.entries(formats)) {
        expect(typeof format.unit, `${family}.${field}`).toBe('string');
        if (format.decimals !== undefined) expect(Number.isInteger(format.decimals)).toBe(true);
      }
    }
    expect(
      roundToPrecision('electricity_meter', { voltage_v: 230.10000000000002, relay_closed: true }),
    ).toEqual({
      voltage_v: 230.1,
      relay_closed: true,
    });
  });
});
