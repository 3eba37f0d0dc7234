import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';

/** What the dashboard's bulk page and command form read before anything is sent. */
describe('bulk preview, bulk targets and command forms', () => {
  let gw: TestGateway;
  let operator: string;
  let viewer: string;
  const preview = (body: unknown, token = operator) =>
    gw.api('POST', '/api/commands/bulk/preview', body, token);

  beforeAll(async () => {
    gw = await startTestGateway();
    operator = (await gw.api('POST', '/api/tokens', { name: 'shift', role: 'operator' })).body.token;
    viewer = (await gw.api('POST', '/api/tokens', { name: 'wall', role: 'viewer' })).body.token;
    const lamp = { model: 'lumina-slc300', firmware: '1.0' };
    for (let i = 0; i < 4; i++)
      await gw.register({
        ...lamp,
        id: `sl-hk-${i}`,
        district: 'Hoàn Kiếm',
        ward: i < 3 ? 'Hàng Bạc' : 'Tràng Tiền',
      });
    await gw.register({
      id: 'sl-bd-0',
      model: 'dragonlight-nc20',
      firmware: '1.0',
      district: 'Ba Đình',
      ward: 'Kim Mã',
    });
    await gw.register({
      id: 'em-hk-0',
      model: 'vinasmart-em310',
      firmware: '1.0',
      district: 'Hoàn Kiếm',
      ward: 'Hàng Bạc',
    });
    await gw.api('PATCH', '/api/devices/sl-hk-2', { enabled: false });
  });
  afterAll(() => gw?.stop());

  it('counts the enabled devices a selector matches, per model, without sending', async () => {
    const res = await preview({
      selector: { family: 'streetlight' },
      name: 'setDimming',
      params: { level: 30 },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      matched: 4,
      disabled: 1,
      eligible: 4,
      byModel: { 'lumina-slc300': 3, 'dragonlight-nc20': 1 },
      skipped: 0,
      skippedReasons: [],
      needsConfirm: false,
    });
    const ward = await preview({ selector: { district: 'Hoàn Kiếm', ward: 'Hàng Bạc' } });
    expect(ward.body).toMatchObject({ matched: 3, disabled: 1, eligible: 3 });
    const model = await preview({ selector: { model: 'dragonlight-nc20' } });
    expect(model.body).toMatchObject({ matched: 1, eligible: 1 });
    for (const id of ['sl-hk-0', 'sl-bd-0'])
      expect((await gw.api('GET', `/api/devices/${id}/commands`)).body.commands).toEqual([]);
  });

  it('says which devices cannot take the command and when the confirm guard applies', async () => {
    const district = await preview({
      selector: { district: 'Hoàn Kiếm' },
      name: 'setRelay',
      params: { closed: false },
    });
    expect(district.body).toMatchObject({ matched: 4, eligible: 1, skipped: 3, needsConfirm: true });
    expect(district.body.skippedReasons).toEqual([
      { reason: 'model lumina-slc300 has no command setRelay', devices: 3 },
    ]);
    const closing = await preview({
      selector: { family: 'electricity_meter' },
      name: 'setRelay',
      params: { closed: true },
    });
    expect(closing.body).toMatchObject({ eligible: 1, needsConfirm: false });
    const bad = await preview({
      selector: { family: 'streetlight' },
      name: 'setDimming',
      params: { level: 140 },
    });
    expect(bad.body).toMatchObject({ eligible: 0, skipped: 4 });
    expect(bad.body.skippedReasons).toEqual([
      { reason: 'params do not fit model lumina-slc300', devices: 3 },
      { reason: 'params do not fit model dragonlight-nc20', devices: 1 },
    ]);
  });

  it('refuses a bad preview naming the field, and a viewer', async () => {
    const empty = await preview({ selector: {} });
    expect(empty.status).toBe(400);
    expect(empty.body.message).toMatch(/selector/);
    const family = await preview({ selector: { family: 'toaster' } });
    expect(family.status).toBe(400);
    expect(family.body.message).toMatch(/family/);
    expect((await preview({ selector: { family: 'streetlight' } }, viewer)).status).toBe(403);
    expect((await gw.api('GET', '/api/commands/bulk/targets', undefined, viewer)).status).toBe(403);
  });

  it('lists the families, models, districts and wards a bulk command can target', async () => {
    const res = await gw.api('GET', '/api/commands/bulk/targets', undefined, operator);
    expect(res.status).toBe(200);
    expect(res.body.families).toEqual([
      { name: 'electricity_meter', devices: 1 },
      { name: 'streetlight', devices: 4 },
    ]);
    expect(res.body.models).toContainEqual({ name: 'lumina-slc300', family: 'streetlight', devices: 3 });
    expect(res.body.districts).toEqual([
      { name: 'Ba Đình', devices: 1, wards: [{ name: 'Kim Mã', devices: 1 }] },
      {
        name: 'Hoàn Kiếm',
        devices: 4,
        wards: [
          { name: 'Hàng Bạc', devices: 3 },
          { name: 'Tràng Tiền', devices: 1 },
        ],
      },
    ]);
  });

  it('describes each command param for a form: type, range, choices, unit, and when confirm is needed', async () => {
    const lamp = (await gw.api('GET', '/api/models/lumina-slc300', undefined, viewer)).body;
    const dim = lamp.commands.find((c: { name: string }) => c.name === 'setDimming');
    expect(dim.fields).toEqual([
      {
        name: 'level',
        type: 'integer',
        required: true,
        minimum: 0,
        maximum: 100,
        enum: null,
        unit: '%',
        description: null,
      },
    ]);
    expect(dim.guards).toMatchObject({ needsConfirm: false, confirmWhen: null });
    const meter = (await gw.api('GET', '/api/models/vinasmart-em310', undefined, viewer)).body;
    const relay = meter.commands.find((c: { name: string }) => c.name === 'setRelay');
    expect(relay.fields).toMatchObject([{ name: 'closed', type: 'boolean', required: true }]);
    expect(relay.guards).toMatchObject({ needsConfirm: true, confirmWhen: { closed: false } });
    const station = (await gw.api('GET', '/api/models/aquanet-ws200', undefined, viewer)).body;
    const valve = station.commands.find((c: { name: string }) => c.name === 'setValve');
    expect(valve.fields[0]).toMatchObject({ type: 'number', minimum: 0, maximum: 100, unit: '%' });
    expect(valve.guards.minIntervalSeconds).toBeGreaterThan(0);
  });

  it('every command of every model yields a form: known input types, numbers with a range, example params that fit it', async () => {
    const { models } = (await gw.api('GET', '/api/models', undefined, viewer)).body;
    expect(models.length).toBeGreaterThan(5);
    for (const model of models)
      for (const cmd of model.commands) {
        const where = `${model.id} ${cmd.name}`;
        expect(Object.keys(cmd.example).sort(), where).toEqual(
          cmd.fields.map((f: { name: string }) => f.name).sort(),
        );
        for (const f of cmd.fields) {
          expect(['integer', 'number', 'boolean', 'string', 'enum'], where).toContain(f.type);
          if (f.type === 'integer' || f.type === 'number') {
            expect(f.minimum, `${where}.${f.name} minimum`).not.toBeNull();
            expect(f.maximum, `${where}.${f.name} maximum`).not.toBeNull();
            expect(cmd.example[f.name]).toBeGreaterThanOrEqual(f.minimum);
            expect(cmd.example[f.name]).toBeLessThanOrEqual(f.maximum);
          }
        }
        for (const [k, v] of Object.entries(cmd.guards.confirmWhen ?? {}))
          expect(cmd.fields.find((f: { name: string }) => f.name === k)?.type, where).toBe(typeof v);
      }
  });

  it('documents the preview and the targets in the OpenAPI schema', async () => {
    const doc = (await gw.api('GET', '/api/openapi.json')).body;
    expect(Object.keys(doc.paths['/api/commands/bulk/preview'])).toEqual(['post']);
    expect(Object.keys(doc.paths['/api/commands/bulk/targets'])).toEqual(['get']);
    const previewBody =
      doc.paths['/api/commands/bulk/preview'].post.requestBody.content['application/json'].schema;
    expect(Object.keys(previewBody.properties)).toEqual(['selector', 'name', 'params']);
  });

  it('the confirm guard the model describes is the one the API enforces', async () => {
    const send = (confirm?: boolean) =>
      gw.api(
        'POST',
        '/api/devices/em-hk-0/commands',
        { name: 'setRelay', params: { closed: false }, confirm },
        operator,
      );
    expect((await send()).body.code).toBe('CMD_ERR_CONFIRM_REQUIRED');
    expect((await send(true)).status).toBe(201);
    const close = await gw.api(
      'POST',
      '/api/devices/em-hk-0/commands',
      { name: 'setRelay', params: { closed: true } },
      operator,
    );
    expect(close.status).toBe(201);
  });
});
