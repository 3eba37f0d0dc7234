import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSpecs } from '../firmware-specs/index.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';

/** Issue 8, row 14: names a client chooses are looked up as own entries, never on Object.prototype. */
describe('command names that are Object.prototype members', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(async () => gw?.stop());

  it.each(['toString', '__proto__', 'constructor', 'hasOwnProperty', 'valueOf'])(
    'POST a command named %s answers 400 CMD_ERR_UNKNOWN_COMMAND naming it',
    async (name) => {
      const dev = await gw.register({
        id: `sl-name-${name.replaceAll('_', 'u')}`,
        model: 'lumina-slc300',
        firmware: '1.0',
      });
      const res = await gw.api('POST', `/api/devices/${dev.id}/commands`, { name, params: {} });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('CMD_ERR_UNKNOWN_COMMAND');
      expect(res.body.message).toContain(`"${name}"`);
    },
  );

  it('a bulk command named toString skips every device with a reason (400), no 500', async () => {
    await gw.register({ id: 'sl-name-bulk', model: 'lumina-slc300', firmware: '1.0', tags: ['proto-bulk'] });
    const res = await gw.api('POST', '/api/commands/bulk', {
      name: 'toString',
      params: {},
      selector: { tag: 'proto-bulk' },
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('CMD_ERR_NO_DEVICES');
    expect(res.body.message).toMatch(/has no command toString/);
  });
});

describe('a device whose model is no longer loaded', () => {
  it('refuses its commands with 409 CMD_ERR_MODEL_NOT_LOADED, and the others still work', async () => {
    const first = await startTestGateway();
    const gone = await first.register({ id: 'sl-model-gone', model: 'lumina-slc300', firmware: '1.0' });
    const kept = await first.register({ id: 'em-model-kept', model: 'vinasmart-em310', firmware: '1.0' });
    await first.stop({ keepData: true });
    const specs = new Map(await loadSpecs());
    specs.delete('lumina-slc300');
    const gw = await startTestGateway({
      dataDir: first.dataDir,
      specs,
      config: { CITYGATE_ADMIN_TOKEN: undefined },
    });
    try {
      const res = await gw.api('POST', `/api/devices/${gone.id}/commands`, {
        name: 'setDimming',
        params: { level: 3 },
      });
      expect(res.status).toBe(409);
      expect(res.body.code).toBe('CMD_ERR_MODEL_NOT_LOADED');
      expect(res.body.message).toContain('lumina-slc300');
      const ok = await gw.api('POST', `/api/devices/${kept.id}/commands`, { name: 'readNow', params: {} });
      expect(ok.status).toBe(201);
    } finally {
      await gw.stop();
    }
  });
});
