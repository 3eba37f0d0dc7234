import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from './helpers/fake-clock.ts';
import { connectOutcome, startTestGateway, type TestGateway } from './helpers/gateway.ts';

/** The CONNACK code of a refused connection, or 0 when it connected. */
const connackCode = async (gw: TestGateway, id: string, secret: string) => {
  const r = await connectOutcome(gw.mqttUrl, id, id, secret);
  return r.message === 'connected' ? 0 : (r.code ?? -1);
};

const v1 = { on: true, dim: 40, p: 50, lux: 3, hrs: 100 };
const v2 = { drv: { state: 'ON', level: 65, power_dw: 845, hours: 101 }, env: { lux: 3 } };

describe('device lifecycle: firmware, place, secret rotation, decommissioning, audit', () => {
  let gw: TestGateway;
  const clock = new FakeClock();
  beforeAll(async () => {
    gw = await startTestGateway({ clock });
  });
  afterAll(async () => gw?.stop());

  it('switches the schema from the next reading on when the firmware changes, and audits it', async () => {
    const dev = await gw.register({ id: 'lc-fw', model: 'lumina-slc300', firmware: '1.4.0' });
    const client = await gw.connect(dev.id, dev.secret);
    const topic = `devices/${dev.id}/telemetry`;
    // Before the change a 2.x reading is quarantined: the registry says 1.4.0.
    await client.publishAsync(topic, JSON.stringify(v2), { qos: 1 });
    const q = await gw.api('GET', `/api/quarantine?deviceId=${dev.id}`);
    expect(q.body.total).toBe(1);

    const patched = await gw.api('PATCH', `/api/devices/${dev.id}`, {
      firmware: '2.1.0',
      ward: 'Tràng Tiền',
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ firmware: '2.1.0', ward: 'Tràng Tiền' });
    // Same connection, no reconnect: the next reading is read with the 2.x layout.
    await client.publishAsync(topic, JSON.stringify(v2), { qos: 1 });
    await expect
      .poll(async () => (await gw.api('GET', `/api/devices/${dev.id}`)).body.lastReading)
      .toMatchObject({ dim_percent: 65, lamp_power_w: 84.5 });
    // …and a 1.x reading is now the one quarantined.
    await client.publishAsync(topic, JSON.stringify(v1), { qos: 1 });
    expect((await gw.api('GET', `/api/quarantine?deviceId=${dev.id}`)).body.total).toBe(2);
    await client.endAsync();

    const audit = await gw.api('GET', `/api/audit?device=${dev.id}&action=device.firmware`);
    expect(audit.body.entries).toEqual([
      expect.objectContaining({ actor: expect.any(String), detail: { from: '1.4.0', to: '2.1.0' } }),
    ]);
    const place = await gw.api('GET', `/api/audit?device=${dev.id}&action=device.update`);
    expect(place.body.entries[0].detail).toEqual({ ward: { from: 'Hàng Bạc', to: 'Tràng Tiền' } });
  });

  it('refuses a firmware the model does not support and bad fields, naming them', async () => {
    const dev = await gw.register({ model: 'lumina-slc300', firmware: '1.0.0' });
    const unsupported = await gw.api('PATCH', `/api/devices/${dev.id}`, { firmware: '9.0.0' });
    expect(unsupported.status).toBe(400);
    expect(unsupported.body.code).toBe('REG_ERR_FIRMWARE_UNSUPPORTED');
    const bad = await gw.api('PATCH', `/api/devices/${dev.id}`, { lat: 123, tags: 'x' });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/body\.lat/);
    expect(bad.body.message).toMatch(/body\.tags/);
    const empty = await gw.api('PATCH', `/api/devices/${dev.id}`, {});
    expect(empty.status).toBe(400);
    const moved = await gw.api('PATCH', `/api/devices/${dev.id}`, {
      lat: 21.03,
      lon: 105.85,
      tags: ['pole-7'],
    });
    expect(moved.body).toMatchObject({ lat: 21.03, lon: 105.85, tags: ['pole-7'], firmware: '1.0.0' });
    const cleared = await gw.api('PATCH', `/api/devices/${dev.id}`, { lat: null, lon: null });
    expect(cleared.body).toMatchObject({ lat: null, lon: null });
  });

  it('rotates a secret: the old one works during the grace, not after; the new one works', async () => {
    const dev = await gw.register({ id: 'lc-rot', model: 'lumina-slc300', firmware: '1.0.0' });
    // Remembered by this process before the rotation: that must not outlive it.
    expect(await connackCode(gw, dev.id, dev.secret)).toBe(0);
    const rotated = await gw.api('POST', `/api/devices/${dev.id}/rotate-secret`, { graceSeconds: 600 });
    expect(rotated.status).toBe(200);
    const { secret } = rotated.body;
    expect(secret).not.toBe(dev.secret);
    expect(Date.parse(rotated.body.previousValidUntil)).toBe(clock.now() + 600_000);

    expect(await connackCode(gw, dev.id, dev.secret)).toBe(0);
    expect(await connackCode(gw, dev.id, secret)).toBe(0);
    clock.advance(599_000);
    expect(await connackCode(gw, dev.id, dev.secret)).toBe(0);
    clock.advance(2000);
    expect(await connackCode(gw, dev.id, dev.secret)).toBe(4);
    expect(await connackCode(gw, dev.id, secret)).toBe(0);
    const audit = await gw.api('GET', `/api/audit?device=${dev.id}&action=device.rotate_secret`);
    expect(audit.body.entries[0].detail).toMatchObject({ graceSeconds: 600 });
    // The secret is in no audit entry.
    expect(JSON.stringify(audit.body)).not.toContain(secret);
  });

  it('rotation without a grace closes the session opened with the old secret', async () => {
    const dev = await gw.register({ model: 'lumina-slc300', firmware: '1.0.0' });
    const live = await gw.connect(dev.id, dev.secret);
    const closed = new Promise<void>((r) => live.once('close', () => r()));
    const rotated = await gw.api('POST', `/api/devices/${dev.id}/rotate-secret`, {});
    expect(rotated.body.previousValidUntil).toBeNull();
    await closed;
    live.end(true);
    expect(await connackCode(gw, dev.id, dev.secret)).toBe(4);
    expect(await connackCode(gw, dev.id, rotated.body.secret)).toBe(0);
    const modbus = await gw.register({
      model: 'sonmetrix-smx630',
      firmware: '1.0.0',
      modbus: { host: '127.0.0.1', port: 1, unitId: 1 },
    });
    const noSecret = await gw.api('POST', `/api/devices/${modbus.id}/rotate-secret`, { graceSeconds: 10 });
    expect(noSecret.status).toBe(400);
    expect(noSecret.body.code).toBe('REG_ERR_NO_SECRET');
    const tooLong = await gw.api('POST', `/api/devices/${dev.id}/rotate-secret`, { graceSeconds: -1 });
    expect(tooLong.body.message).toMatch(/body\.graceSeconds/);
  });

  it('decommissions: cut off, refused at CONNECT and at registration, history and audit kept', async () => {
    const dev = await gw.register({ id: 'lc-gone', model: 'lumina-slc300', firmware: '1.0.0' });
    const live = await gw.connect(dev.id, dev.secret);
    await live.publishAsync(`devices/${dev.id}/telemetry`, JSON.stringify(v1), { qos: 1 });
    const command = await gw.api('POST', `/api/devices/${dev.id}/commands`, {
      name: 'setDimming',
      params: { level: 30 },
    });
    expect(command.status).toBe(201);
    const closed = new Promise<void>((r) => live.once('close', () => r()));
    const res = await gw.api('POST', `/api/devices/${dev.id}/decommission`, { reason: 'pole knocked down' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      enabled: false,
      status: 'disabled',
      decommissionedAt: expect.any(String),
    });
    await closed;
    live.end(true);

    expect(await connackCode(gw, dev.id, dev.secret)).toBe(5);
    const again = await gw.api('POST', '/api/devices', {
      id: dev.id,
      model: 'lumina-slc300',
      firmware: '1.0.0',
      district: 'Hoàn Kiếm',
      ward: 'Hàng Bạc',
    });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('REG_ERR_DEVICE_DECOMMISSIONED');
    expect(again.body.message).toMatch(/not reused/);
    expect((await gw.api('PATCH', `/api/devices/${dev.id}`, { enabled: true })).status).toBe(409);
    expect((await gw.api('DELETE', `/api/devices/${dev.id}`)).status).toBe(409);

    // Its record, last reading, commands and audit stay; lists leave it out unless asked.
    const kept = await gw.api('GET', `/api/devices/${dev.id}`);
    expect(kept.body.lastReading).toMatchObject({ dim_percent: 40 });
    const commands = await gw.api('GET', `/api/devices/${dev.id}/commands`);
    expect(commands.status).toBe(200);
    expect(JSON.stringify(commands.body)).toContain(command.body.id);
    const actions = (await gw.api('GET', `/api/audit?device=${dev.id}`)).body.entries.map(
      (e: { action: string }) => e.action,
    );
    expect(actions[0]).toBe('device.decommission');
    expect(actions.at(-1)).toBe('device.register');
    const listed = await gw.api('GET', '/api/devices?limit=1000');
    expect(listed.body.devices.map((d: { id: string }) => d.id)).not.toContain(dev.id);
    const gone = await gw.api('GET', '/api/devices?decommissioned=true');
    expect(gone.body.devices.map((d: { id: string }) => d.id)).toEqual([dev.id]);
  });

  it('DELETE decommissions too', async () => {
    const dev = await gw.register({ model: 'lumina-slc300', firmware: '1.0.0' });
    const res = await gw.api('DELETE', `/api/devices/${dev.id}`);
    expect(res.status).toBe(200);
    expect(res.body.decommissionedAt).not.toBeNull();
    expect(await connackCode(gw, dev.id, dev.secret)).toBe(5);
  });

  it('filters the audit by device, actor, action and time, newest first, page by page', async () => {
    const op = (await gw.api('POST', '/api/tokens', { name: 'audit-admin-2', role: 'admin' })).body.token;
    const viewer = (await gw.api('POST', '/api/tokens', { name: 'audit-viewer', role: 'viewer' })).body.token;
    const from = clock.now() + 1;
    clock.advance(60_000);
    const a = await gw.register({ id: 'lc-aud', model: 'lumina-slc300', firmware: '1.0.0' });
    clock.advance(60_000);
    await gw.api('PATCH', `/api/devices/${a.id}`, { district: 'Đống Đa' }, op);
    clock.advance(60_000);
    await gw.api('PATCH', `/api/devices/${a.id}`, { district: 'Hai Bà Trưng' }, op);
    clock.advance(60_000);
    await gw.api('PATCH', `/api/devices/${a.id}`, { enabled: false }, op);

    const byActor = await gw.api('GET', '/api/audit?actor=audit-admin-2');
    expect(byActor.body.entries.map((e: { action: string }) => e.action)).toEqual([
      'device.disable',
      'device.update',
      'device.update',
    ]);
    const page1 = await gw.api('GET', `/api/audit?device=${a.id}&action=device.update&limit=1`);
    expect(page1.body.total).toBe(2);
    expect(page1.body.entries[0].detail.district.to).toBe('Hai Bà Trưng');
    const page2 = await gw.api('GET', page1.body.next);
    expect(page2.body.entries[0].detail.district.to).toBe('Đống Đa');
    expect(page2.body.next).toBeNull();

    // The two updates, at from + 2 and + 3 minutes; not the registration nor the disabling.
    const since = new Date(from + 100_000).toISOString();
    const until = new Date(from + 200_000).toISOString();
    const window = await gw.api('GET', `/api/audit?device=${a.id}&since=${since}&until=${until}`);
    expect(
      window.body.entries.map((e: { detail: { district?: { to: string } } }) => e.detail.district?.to),
    ).toEqual(['Hai Bà Trưng', 'Đống Đa']);
    const badTime = await gw.api('GET', '/api/audit?since=yesterday');
    expect(badTime.status).toBe(400);
    expect(badTime.body.message).toMatch(/querystring\.since/);
    expect((await gw.api('GET', '/api/audit', undefined, viewer)).status).toBe(403);
  });
});
