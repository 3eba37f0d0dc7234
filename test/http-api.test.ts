import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';

describe('HTTP API', () => {
  let gw: TestGateway;
  let viewer: string;
  beforeAll(async () => {
    gw = await startTestGateway();
    viewer = (await gw.api('POST', '/api/tokens', { name: 'noc-screen', role: 'viewer' })).body.token;
  });
  afterAll(async () => gw?.stop());

  it('lists every model with firmware examples and command examples', async () => {
    const res = await gw.api('GET', '/api/models', undefined, viewer);
    expect(res.status).toBe(200);
    const families = new Set(res.body.models.map((m: { family: string }) => m.family));
    expect([...families].sort()).toEqual([
      'air_quality',
      'electricity_meter',
      'streetlight',
      'water_station',
    ]);
    const one = await gw.api('GET', '/api/models/lumina-slc300', undefined, viewer);
    expect(one.body.firmware.map((f: { version: string }) => f.version)).toEqual(['1.x', '2.x', '3.x']);
    expect(one.body.commands.find((c: { name: string }) => c.name === 'setDimming')).toMatchObject({
      mode: 'state',
      example: { level: 40 },
      params: { type: 'object', properties: { level: { maximum: 100 } } },
    });
    expect((await gw.api('GET', '/api/models/nope', undefined, viewer)).status).toBe(404);
  });

  it('returns the secret once at registration and never again', async () => {
    const res = await gw.api('POST', '/api/devices', {
      id: 'aq-api-1',
      model: 'airviet-aq5',
      firmware: '2.0.1',
      district: 'Cầu Giấy',
      ward: 'Dịch Vọng',
      tags: ['school-zone'],
      lat: 21.03,
      lon: 105.79,
    });
    expect(res.status).toBe(201);
    expect(res.body.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const again = await gw.api('GET', '/api/devices/aq-api-1', undefined, viewer);
    expect(again.body).not.toHaveProperty('secret');
    expect(again.body).toMatchObject({
      status: 'offline',
      family: 'air_quality',
      district: 'Cầu Giấy',
      tags: ['school-zone'],
    });
    expect((await gw.api('POST', '/api/devices', { ...res.body, secret: undefined })).status).toBe(400);
  });

  it('names the field of a bad request', async () => {
    const res = await gw.api('POST', '/api/devices', {
      id: 'x y',
      model: 'airviet-aq5',
      firmware: 'two',
      district: 'Ba Đình',
    });
    expect(res.status).toBe(400);
    const paths = res.body.details.map((d: { path: string }) => d.path).sort();
    expect(paths).toEqual(['body.firmware', 'body.id', 'body.ward']);
    const model = await gw.api('POST', '/api/devices', {
      id: 'x',
      model: 'nope',
      firmware: '1.0',
      district: 'a',
      ward: 'b',
    });
    expect(model).toMatchObject({ status: 404, body: { code: 'REG_ERR_MODEL_NOT_FOUND' } });
    const fw = await gw.api('POST', '/api/devices', {
      id: 'x',
      model: 'airviet-aq5',
      firmware: '9.0',
      district: 'a',
      ward: 'b',
    });
    expect(fw).toMatchObject({ status: 400, body: { code: 'REG_ERR_FIRMWARE_UNSUPPORTED' } });
    const dup = await gw.api('POST', '/api/devices', {
      id: 'aq-api-1',
      model: 'airviet-aq5',
      firmware: '2.0',
      district: 'a',
      ward: 'b',
    });
    expect(dup).toMatchObject({ status: 409, body: { code: 'REG_ERR_DEVICE_EXISTS' } });
  });

  it('filters the device list by family, district and status', async () => {
    await gw.register({
      id: 'sl-api-1',
      model: 'lumina-slc300',
      firmware: '1.0',
      district: 'Long Biên',
      ward: 'Bồ Đề',
    });
    const byFamily = await gw.api('GET', '/api/devices?family=streetlight', undefined, viewer);
    expect(byFamily.body.devices.map((d: { id: string }) => d.id)).toEqual(['sl-api-1']);
    const byDistrict = await gw.api(
      'GET',
      `/api/devices?district=${encodeURIComponent('Cầu Giấy')}`,
      undefined,
      viewer,
    );
    expect(byDistrict.body.total).toBe(1);
    const online = await gw.api('GET', '/api/devices?status=online', undefined, viewer);
    expect(online.body.total).toBe(0);
    expect((await gw.api('GET', '/api/devices?family=toaster', undefined, viewer)).status).toBe(400);
  });

  it('refuses no token (401), a bad token (401) and a viewer writing (403)', async () => {
    expect((await gw.api('GET', '/api/devices', undefined, '')).status).toBe(401);
    expect((await gw.api('GET', '/api/devices', undefined, 'cg_wrong')).status).toBe(401);
    const res = await gw.api('PATCH', '/api/devices/sl-api-1', { enabled: false }, viewer);
    expect(res).toMatchObject({ status: 403, body: { code: 'GW_ERR_FORBIDDEN' } });
    expect((await gw.api('POST', '/api/tokens', { name: 'x', role: 'admin' }, viewer)).status).toBe(403);
  });

  it('serves health, readiness, Prometheus metrics and an OpenAPI document', async () => {
    expect((await fetch(`${gw.httpUrl}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${gw.httpUrl}/readyz`)).json()).toMatchObject({
      ready: true,
      sink: 'archive',
    });
    expect(await (await fetch(`${gw.httpUrl}/metrics`)).text()).toContain('citygate_readings_received_total');
    const doc = (await (await fetch(`${gw.httpUrl}/api/openapi.json`)).json()) as {
      openapi: string;
      paths: object;
    };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/devices', '/api/devices/{id}', '/api/models']),
    );
  });
});
