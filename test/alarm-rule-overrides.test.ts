import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeAlarmRules, fakeAlarmRules } from './helpers/fake-alarm-engine.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';

describe('alarm rule overrides through the API', () => {
  let gw: TestGateway;
  let rules: FakeAlarmRules;
  let operator: string;
  const reading = (err: number) => JSON.stringify({ on: true, dim: 50, p: 40, lux: 1, hrs: 2, err });
  const publish = async (id: string, secret: string, err: number) => {
    const c = await gw.connect(id, secret);
    await c.publishAsync(`devices/${id}/telemetry`, reading(err), { qos: 1 });
    await c.endAsync();
  };
  const alarmsOf = async (id: string) => (await gw.api('GET', `/api/alarms?device=${id}`)).body.alarms;

  beforeAll(async () => {
    rules = fakeAlarmRules();
    gw = await startTestGateway({ alarmRules: rules });
    operator = (await gw.api('POST', '/api/tokens', { name: 'op', role: 'operator' })).body.token;
  });
  afterAll(async () => gw?.stop());

  it('documents the alarm and rule routes in the OpenAPI document', async () => {
    const doc = (await gw.api('GET', '/api/openapi.json')).body;
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/alarms',
        '/api/alarms/{id}',
        '/api/alarms/{id}/ack',
        '/api/alarms/{id}/shelve',
        '/api/alarms/{id}/unshelve',
        '/api/alarm-rules',
        '/api/alarm-rules/overrides/{scope}/{key}/{ruleId}',
      ]),
    );
  });

  it('shows the default rules of a family to a viewer', async () => {
    const viewer = (await gw.api('POST', '/api/tokens', { name: 'v', role: 'viewer' })).body.token;
    const res = await gw.api('GET', '/api/alarm-rules?family=streetlight', undefined, viewer);
    expect(res.status).toBe(200);
    expect(res.body.rules.map((r: { id: string }) => r.id)).toEqual(['lamp_fault', 'offline']);
    expect(res.body.rules[0]).toMatchObject({ severity: 'major', field: 'fault_code', threshold: 0 });
  });

  it('lets only an admin override a rule per model; the engine applies it at once', async () => {
    const path = '/api/alarm-rules/overrides/model/lumina-slc300/lamp_fault';
    const denied = await gw.api('PUT', path, { threshold: 5 }, operator);
    expect(denied.status).toBe(403);
    const created = await gw.api('PUT', path, { threshold: 5 });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      scope: 'model',
      key: 'lumina-slc300',
      ruleId: 'lamp_fault',
      override: { threshold: 5 },
      updatedBy: 'admin',
    });
    expect(rules.engine!.invalidations).toContain(undefined);
    expect((await gw.api('PUT', path, { threshold: 5, severity: 'minor' })).status).toBe(200);

    const dev = await gw.register({ id: 'sl-ovr-1', model: 'lumina-slc300', firmware: '1.0' });
    await publish(dev.id, dev.secret, 3);
    expect(await alarmsOf(dev.id)).toHaveLength(0);
    await publish(dev.id, dev.secret, 7);
    await expect.poll(async () => (await alarmsOf(dev.id))[0]?.severity).toBe('minor');
    expect((await gw.api('DELETE', path)).status).toBe(204);
    expect((await gw.api('DELETE', path)).body.code).toBe('ALM_ERR_OVERRIDE_NOT_FOUND');
  });

  it('disables a rule for one device and shows what shaped its effective rules', async () => {
    const dev = await gw.register({
      id: 'sl-ovr-2',
      model: 'lumina-slc300',
      firmware: '1.0',
      district: 'Đống Đa',
    });
    const district = encodeURIComponent('Đống Đa');
    expect(
      (
        await gw.api('PUT', `/api/alarm-rules/overrides/district/${district}/offline`, {
          severity: 'critical',
        })
      ).status,
    ).toBe(201);
    expect(
      (await gw.api('PUT', '/api/alarm-rules/overrides/device/sl-ovr-2/lamp_fault', { enabled: false }))
        .status,
    ).toBe(201);
    expect(rules.engine!.invalidations).toContain('sl-ovr-2');
    const effective = (await gw.api('GET', '/api/alarm-rules?device=sl-ovr-2')).body;
    expect(effective.rules.map((r: { id: string; severity: string }) => [r.id, r.severity])).toEqual([
      ['offline', 'critical'],
    ]);
    expect(effective.overrides.map((o: { scope: string }) => o.scope)).toEqual(['district', 'device']);
    await publish(dev.id, dev.secret, 9);
    const other = await gw.register({ id: 'sl-ovr-3', model: 'lumina-slc300', firmware: '1.0' });
    await publish(other.id, other.secret, 9);
    await expect.poll(async () => (await alarmsOf(other.id)).length).toBe(1);
    expect(await alarmsOf(dev.id)).toHaveLength(0);
  });

  it('refuses an override of an unknown rule, model or device, or a body the engine rejects, naming the field', async () => {
    const put = (path: string, body: unknown) => gw.api('PUT', `/api/alarm-rules/overrides/${path}`, body);
    await gw.register({ id: 'sl-ovr-4', model: 'lumina-slc300', firmware: '1.0' });
    const unknownRule = await put('model/lumina-slc300/pm25_high', {});
    expect(unknownRule.status).toBe(400);
    expect(unknownRule.body.code).toBe('ALM_ERR_OVERRIDE_INVALID');
    expect(unknownRule.body.message).toContain('params.ruleId: no rule "pm25_high"');
    expect((await put('model/no-such-model/offline', {})).body.message).toContain('params.key');
    expect((await put('device/no-such-device/offline', {})).body.message).toContain('params.key');
    expect((await put('device/sl-ovr-4/offline', { threshold: 'high' })).body.message).toContain(
      'body.threshold',
    );
    expect((await put('device/sl-ovr-4/offline', { colour: 'red' })).status).toBe(400);
    expect((await put('device/sl-ovr-4/lamp_fault', { threshold: -1 })).body.message).toBe(
      'body.threshold: a fault code is never negative',
    );
    expect((await put('street/x/offline', {})).body.message).toContain('params.scope');
  });
});
