import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mapView } from '../gateway/dashboard/dashboard-routes.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';

describe('the dashboard on the gateway: /api/me, /api/map and the page at /', () => {
  let gw: TestGateway;
  const tokens: Record<string, string> = {};
  let lampSecret = '';
  beforeAll(async () => {
    gw = await startTestGateway();
    for (const role of ['viewer', 'operator'] as const)
      tokens[role] = (await gw.api('POST', '/api/tokens', { name: `dash-${role}`, role })).body.token;
    ({ secret: lampSecret } = await gw.register({
      id: 'sl-dash-1',
      model: 'lumina-slc300',
      firmware: '1.0',
      district: 'Ba Đình',
      ward: 'Kim Mã',
    }));
    await gw.api('POST', '/api/devices', {
      id: 'aq-dash-1',
      model: 'airviet-aq5',
      firmware: '1.0',
      district: 'Hoàn Kiếm',
      ward: 'Hàng Bạc',
      lat: 21.03,
      lon: 105.85,
    });
  });
  afterAll(() => gw?.stop());

  it('GET /api/me answers the token’s name and role, and 401 without one', async () => {
    expect((await gw.api('GET', '/api/me', undefined, tokens.viewer)).body).toEqual({
      name: 'dash-viewer',
      role: 'viewer',
    });
    expect((await gw.api('GET', '/api/me', undefined, tokens.operator)).body.role).toBe('operator');
    expect((await gw.api('GET', '/api/me')).body.role).toBe('admin');
    const none = await fetch(`${gw.httpUrl}/api/me`);
    expect(none.status).toBe(401);
    const wrong = await gw.api('GET', '/api/me', undefined, 'not-a-token');
    expect(wrong.status).toBe(401);
  });

  it('GET /api/map lists every device with its place, status and worst alarm, and the 30 districts', async () => {
    const map = mapView.parse((await gw.api('GET', '/api/map', undefined, tokens.viewer)).body);
    expect(map.districts).toHaveLength(30);
    expect(map.districts.map((d: { name: string }) => d.name)).toContain('Hoàn Kiếm');
    expect(map.devices).toHaveLength((await gw.api('GET', '/api/devices')).body.total);
    const aq = map.devices.find((d) => d[0] === 'aq-dash-1')!;
    expect(map.families[aq[1]]).toBe('air_quality');
    expect(map.districts[aq[2]].name).toBe('Hoàn Kiếm');
    expect(aq.slice(3, 5)).toEqual([21.03, 105.85]);
    expect(map.statuses[aq[5]]).toBe('offline');
    expect(aq[6]).toBe(-1);
    // A device registered without coordinates is placed at its district's centre.
    const sl = map.devices.find((d) => d[0] === 'sl-dash-1')!;
    const baDinh = map.districts[sl[2]];
    expect(baDinh.name).toBe('Ba Đình');
    expect(sl.slice(3, 5)).toEqual([baDinh.lat, baDinh.lon]);
    expect(map.tileUrl).toBeNull();
  });

  it('GET /api/map shows a device’s worst open alarm', async () => {
    await gw.api('PUT', '/api/alarm-rules/overrides/device/sl-dash-1/lamp_fault', {
      onDelaySeconds: 0,
      severity: 'critical',
    });
    const lamp = await gw.connect('sl-dash-1', lampSecret);
    await lamp.publishAsync(
      'devices/sl-dash-1/telemetry',
      JSON.stringify({ on: true, dim: 80, p: 90, lux: 2, hrs: 5, err: 7 }),
      { qos: 1 },
    );
    const worst = async () => {
      const map = (await gw.api('GET', '/api/map', undefined, tokens.viewer)).body;
      const sl = map.devices.find((d: unknown[]) => d[0] === 'sl-dash-1');
      return [map.statuses[sl[5]], sl[6] < 0 ? null : map.severities[sl[6]]];
    };
    await expect.poll(worst).toEqual(['online', 'critical']);
    await lamp.endAsync();
  });

  it('serves the built page at / with a content security policy, and leaves the API, health and metrics alone', async () => {
    const page = await fetch(`${gw.httpUrl}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await page.text();
    expect(html).toContain('<div id="app">');
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const js = await fetch(`${gw.httpUrl}${script}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('cache-control')).toContain('immutable');
    expect((await fetch(`${gw.httpUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${gw.httpUrl}/readyz`)).status).toBe(200);
    expect((await fetch(`${gw.httpUrl}/metrics`)).status).toBe(200);
    const missing = await fetch(`${gw.httpUrl}/api/nothing-here`);
    expect(missing.status).toBe(404);
    expect((await missing.json()).statusCode).toBe(404);
    expect((await fetch(`${gw.httpUrl}/no-such-file.js`)).status).toBe(404);
  });
});
