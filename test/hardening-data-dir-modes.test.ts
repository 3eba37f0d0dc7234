import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';

// Issue 8, row 15 and item 8: the data directory holds secret hashes, token digests and readings;
// it is the gateway user's alone (0700), and so is every file in it (0600).
let root: string;
let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.gateway.stop().catch(() => {});
  gw = undefined;
  rmSync(root, { recursive: true, force: true });
});

const mode = (path: string) => `0${(statSync(path).mode & 0o777).toString(8)}`;

/** Every file and directory under `dir` with its mode, for one readable assertion. */
function modes(dir: string): Record<string, string> {
  const out: Record<string, string> = { '.': mode(dir) };
  for (const name of readdirSync(dir, { recursive: true }) as string[]) out[name] = mode(join(dir, name));
  return out;
}

describe('data directory modes (issue 8, row 15)', () => {
  it('a new data directory is 0700 and its files 0600, after start and after writes', async () => {
    root = mkdtempSync(join(tmpdir(), 'citygate-modes-'));
    const dataDir = join(root, 'data');
    gw = await startTestGateway({ dataDir });
    const { id, secret } = await gw.register({ id: 'sl-modes-1', model: 'lumina-slc300', firmware: '1.0.0' });
    const client = await gw.connect(id, secret);
    await client.publishAsync(
      `devices/${id}/telemetry`,
      JSON.stringify({ on: true, dim: 1, p: 2, lux: 1, hrs: 1 }),
      {
        qos: 1,
      },
    );
    await client.endAsync();
    await vi.waitFor(() => expect(readdirSync(join(dataDir, 'archive'))).toHaveLength(1));
    const seen = modes(dataDir);
    expect(Object.keys(seen)).toEqual(
      expect.arrayContaining([
        'admin-token',
        'registry.db',
        'registry.db-wal',
        'registry.db-shm',
        'outbox.db',
        'outbox.db-wal',
        'outbox.db-shm',
        'archive',
        'firmware',
      ]),
    );
    const directories = new Set(['.', 'archive', 'firmware']);
    const expected = Object.fromEntries(
      Object.keys(seen).map((k) => [k, directories.has(k) ? '0700' : '0600']),
    );
    expect(seen).toEqual(expected);
  });

  it('an existing wider data directory and its files are tightened, with a warning', async () => {
    root = mkdtempSync(join(tmpdir(), 'citygate-modes-'));
    const dataDir = join(root, 'data');
    gw = await startTestGateway({ dataDir });
    await gw.gateway.stop();
    gw = undefined;
    // As an older gateway left it under umask 022.
    chmodSync(dataDir, 0o755);
    for (const f of ['registry.db', 'outbox.db', 'admin-token']) chmodSync(join(dataDir, f), 0o644);
    mkdirSync(join(dataDir, 'archive'), { recursive: true });
    chmodSync(join(dataDir, 'archive'), 0o755);
    writeFileSync(join(dataDir, 'archive', '2026-01-01.lp'), 'x v=1 1\n', { mode: 0o644 });
    chmodSync(join(dataDir, 'archive', '2026-01-01.lp'), 0o644);

    const lines: string[] = [];
    const log = pino(
      { level: 'warn' },
      new Writable({
        write(chunk, _enc, cb) {
          lines.push(chunk.toString());
          cb();
        },
      }),
    );
    gw = await startTestGateway({ dataDir, log });
    expect(mode(dataDir)).toBe('0700');
    for (const f of ['registry.db', 'outbox.db', 'admin-token', 'archive/2026-01-01.lp'])
      expect(mode(join(dataDir, f)), f).toBe('0600');
    expect(mode(join(dataDir, 'archive'))).toBe('0700');
    const warned = lines.map((l) => JSON.parse(l)).filter((l) => l.msg.includes('tightened'));
    expect(warned).toContainEqual(
      expect.objectContaining({ level: 40, path: dataDir, was: '0755', now: '0700' }),
    );
  });
});
