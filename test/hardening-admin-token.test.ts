import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { spawnGateway } from './helpers/gateway-process.ts';

// Issue 8, row 9 and item 8: the bootstrap admin token (CITYGATE_ADMIN_TOKEN or the generated
// admin-token file) is rotated by changing it, and a revoked one stops the start with a clear error.
const OLD = 'old-admin-token-0123456789abcdef';
const NEW = 'new-admin-token-0123456789abcdef';

let dirs: string[] = [];
let running: TestGateway[] = [];
afterEach(async () => {
  for (const gw of running) await gw.gateway.stop().catch(() => {});
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
  running = [];
});

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'citygate-admin-'));
  dirs.push(dir);
  return dir;
}

async function start(dir: string, token?: string): Promise<TestGateway> {
  const gw = await startTestGateway({ dataDir: dir, config: { CITYGATE_ADMIN_TOKEN: token } });
  running.push(gw);
  return gw;
}

async function restart(gw: TestGateway): Promise<void> {
  await gw.gateway.stop();
  running = running.filter((g) => g !== gw);
}

describe('bootstrap admin token (issue 8, row 9)', () => {
  it('a changed CITYGATE_ADMIN_TOKEN retires the previous one; API-made tokens stay', async () => {
    const dir = dataDir();
    const first = await start(dir, OLD);
    const made = await first.api('POST', '/api/tokens', { name: 'ops-lead', role: 'admin' });
    expect(made.status).toBe(201);
    await restart(first);

    const second = await start(dir, NEW);
    expect((await second.api('GET', '/api/tokens', undefined, NEW)).status).toBe(200);
    const old = await second.api('GET', '/api/tokens', undefined, OLD);
    expect(old.status).toBe(401);
    expect(old.body.code).toBe('GW_ERR_AUTH_INVALID');
    const listed = await second.api('GET', '/api/tokens', undefined, made.body.token);
    expect(listed.status).toBe(200);
    // The old bootstrap token is listed as revoked, the new one as the bootstrap token.
    expect(listed.body.tokens.map((t: any) => [t.bootstrap, t.revokedAt === null])).toEqual([
      [true, false],
      [false, true],
      [true, true],
    ]);
  });

  it('a revoked CITYGATE_ADMIN_TOKEN stops the next start with a coded error saying what to do', async () => {
    const dir = dataDir();
    const first = await start(dir, OLD);
    const { body } = await first.api('GET', '/api/tokens');
    const [bootstrap] = body.tokens.filter((t: { bootstrap: boolean }) => t.bootstrap);
    expect((await first.api('DELETE', `/api/tokens/${bootstrap.id}`)).status).toBe(204);
    await restart(first);

    await expect(start(dir, OLD)).rejects.toMatchObject({
      code: 'REG_ERR_ADMIN_TOKEN_REVOKED',
      message: expect.stringMatching(/CITYGATE_ADMIN_TOKEN was revoked .*set CITYGATE_ADMIN_TOKEN to a new/),
    });
    // As the operator sees it from `npm start`: one line on stderr, exit code 1, no stack.
    const out = await spawnGateway({ CITYGATE_DATA_DIR: dir, CITYGATE_ADMIN_TOKEN: OLD }).then(
      () => 'started',
      (err: Error) => err.message,
    );
    expect(out).toMatch(/^gateway exited 1: /);
    expect(out).toMatch(/citygate: REG_ERR_ADMIN_TOKEN_REVOKED: the admin token from CITYGATE_ADMIN_TOKEN/);
    expect(out).not.toMatch(/SQLITE_CONSTRAINT|\n\s+at /);

    const rotated = await start(dir, NEW);
    expect((await rotated.api('GET', '/api/tokens', undefined, NEW)).status).toBe(200);
  });

  it('a revoked generated token: deleting the admin-token file makes a new one', async () => {
    const dir = dataDir();
    const first = await start(dir);
    const file = join(dir, 'admin-token');
    const generated = readFileSync(file, 'utf8').trim();
    const { body } = await first.api('GET', '/api/tokens');
    expect((await first.api('DELETE', `/api/tokens/${body.tokens[0].id}`)).status).toBe(204);
    await restart(first);

    await expect(start(dir)).rejects.toMatchObject({
      code: 'REG_ERR_ADMIN_TOKEN_REVOKED',
      message: expect.stringContaining(`delete ${file}`),
    });
    rmSync(file);
    const second = await start(dir);
    expect(existsSync(file)).toBe(true);
    expect(second.admin).not.toBe(generated);
    expect((await second.api('GET', '/api/tokens', undefined, second.admin)).status).toBe(200);
    expect((await second.api('GET', '/api/tokens', undefined, generated)).status).toBe(401);
  });
});
