import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';

/** Every `createError(...)` of the code base: its argument tuple and its message. */
function errorDeclarations() {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (e.name.endsWith('.ts')) files.push(join(dir, e.name));
    }
  };
  for (const dir of ['gateway', 'device-registry', 'adapters', 'firmware-specs', 'simulators', 'bin'])
    walk(dir);
  const out: Array<{ file: string; code: string; tuple: string | null; message: string }> = [];
  const declaration = /createError(?:<([^(]*?)>)?\(\s*'([A-Z_]+)',\s*'((?:[^'\\]|\\.)*)'/gs;
  for (const file of files)
    for (const m of readFileSync(file, 'utf8').matchAll(declaration)) {
      const tuple = m[1]?.match(/\[(.*)\]\s*$/s)?.[1] ?? null;
      out.push({ file, code: m[2], tuple, message: m[3] });
    }
  return out;
}

describe('error messages', () => {
  it('declare as many arguments as their message has placeholders, so tsc refuses an extra one', () => {
    const declarations = errorDeclarations();
    expect(declarations.length).toBeGreaterThan(30);
    const wrong = declarations
      .filter((d) => {
        const placeholders = d.message.match(/%[sdifjoO]/g)?.length ?? 0;
        const declared = d.tuple === null ? -1 : d.tuple.trim() === '' ? 0 : d.tuple.split(',').length;
        return declared !== placeholders;
      })
      .map((d) => `${d.file} ${d.code}`);
    // An error created with an argument its message has no %s for prints the argument after the
    // message (util.format): "the selector matches no enabled device the selector matches no enabled device".
    expect(wrong).toEqual([]);
  });

  describe('through the API', () => {
    let gw: TestGateway;
    beforeAll(async () => {
      gw = await startTestGateway();
    });
    afterAll(async () => gw?.stop());

    it('a bulk command that selects nothing says so once', async () => {
      const res = await gw.api('POST', '/api/commands/bulk', {
        selector: { district: 'Nowhere' },
        name: 'setDimming',
        params: { level: 10 },
      });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({
        code: 'CMD_ERR_NO_DEVICES',
        message: 'no device to send to: the selector matches no enabled device',
      });
    });

    it('a bulk command no selected model can take names the reason once', async () => {
      await gw.register({ id: 'em-msg-1', model: 'vinasmart-em310', firmware: '1.2' });
      const res = await gw.api('POST', '/api/commands/bulk', {
        selector: { ids: ['em-msg-1'] },
        name: 'setDimming',
        params: { level: 10 },
      });
      expect(res.body.message).toBe(
        'no device to send to: 1 selected, none can take it (model vinasmart-em310 has no command setDimming)',
      );
    });
  });
});
