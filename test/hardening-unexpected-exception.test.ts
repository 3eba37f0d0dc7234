import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from './helpers/victoria.ts';

// Issue 8, item 6: an exception nobody caught is logged at fatal with the error, the gateway
// stops as cleanly as it can in a bounded time, and the process exits 70 so a supervisor restarts
// it. The process is the real gateway/main.ts (test/fixtures/main-with-fault.ts adds the fault).
let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

async function runWithFault(fault: 'throw' | 'rejection'): Promise<{ code: number | null; lines: any[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'citygate-fatal-'));
  dirs.push(dir);
  const proc = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/main-with-fault.ts'], {
    env: {
      ...process.env,
      FAULT: fault,
      LOG_LEVEL: 'info',
      CITYGATE_DATA_DIR: dir,
      CITYGATE_ADMIN_TOKEN: 'fatal-test-admin-token-0123456789',
      MQTT_HOST: '127.0.0.1',
      HTTP_HOST: '127.0.0.1',
      MQTT_PORT: String(await freePort()),
      HTTP_PORT: String(await freePort()),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout.on('data', (d) => (out += d));
  proc.stderr.on('data', (d) => (out += d));
  const code = await new Promise<number | null>((resolve) => {
    // Bounded: a gateway that does not exit is a failure, not a hung test.
    const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
    proc.once('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  const lines = out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
  return { code, lines };
}

describe('unexpected exception (issue 8, item 6)', () => {
  it('an uncaught exception is logged at fatal, the gateway stops, and the process exits 70', async () => {
    const { code, lines } = await runWithFault('throw');
    expect(code).toBe(70);
    const fatal = lines.find((l) => l.level === 60);
    expect(fatal).toMatchObject({ kind: 'uncaughtException', err: { message: 'injected fault' } });
    expect(fatal.err.stack).toContain('main-with-fault.ts');
    expect(lines.map((l) => l.msg)).toContain('citygate stopped');
  });

  it('an unhandled rejection is handled the same way', async () => {
    const { code, lines } = await runWithFault('rejection');
    expect(code).toBe(70);
    expect(lines.find((l) => l.level === 60)).toMatchObject({
      kind: 'unhandledRejection',
      err: { message: 'injected rejection' },
    });
    expect(lines.map((l) => l.msg)).toContain('citygate stopped');
  });
});
