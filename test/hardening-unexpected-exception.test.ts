import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { freePort } from './helpers/victoria.ts';

// Issue 8, item 6: an exception nobody caught is logged at fatal with the error, the gateway
// stops as cleanly as it can in a bounded time, and the process exits 70 so a supervisor restarts
// it. The process is the real gateway/main.ts (test/fixtures/main-with-fault.ts adds the fault).
let cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups) c();
  cleanups = [];
});

interface Run {
  proc: ChildProcess;
  httpUrl: string;
  exited: Promise<number | null>;
  /** The JSON log lines so far. */
  lines(): any[];
}

async function runWithFault(fault: 'throw' | 'rejection' | 'disk-full'): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'citygate-fatal-'));
  const httpPort = await freePort();
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
      HTTP_PORT: String(httpPort),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout?.on('data', (d) => (out += d));
  proc.stderr?.on('data', (d) => (out += d));
  // Bounded: a gateway that does not exit is a failure, not a hung test.
  const timer = setTimeout(() => proc.kill('SIGKILL'), 40_000);
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    }),
  );
  cleanups.push(() => {
    proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    proc,
    httpUrl: `http://127.0.0.1:${httpPort}`,
    exited,
    lines: () =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l)),
  };
}

// A process start with tsx takes seconds on a busy machine.
describe('unexpected exception (issue 8, item 6)', { timeout: 60_000 }, () => {
  it('an uncaught exception is logged at fatal, the gateway stops, and the process exits 70', async () => {
    const run = await runWithFault('throw');
    expect(await run.exited).toBe(70);
    const fatal = run.lines().find((l) => l.level === 60);
    expect(fatal).toMatchObject({ kind: 'uncaughtException', err: { message: 'injected fault' } });
    expect(fatal.err.stack).toContain('main-with-fault.ts');
    expect(run.lines().map((l) => l.msg)).toContain('citygate stopped');
  });

  it('an unhandled rejection is handled the same way', async () => {
    const run = await runWithFault('rejection');
    expect(await run.exited).toBe(70);
    expect(run.lines().find((l) => l.level === 60)).toMatchObject({
      kind: 'unhandledRejection',
      err: { message: 'injected rejection' },
    });
    expect(run.lines().map((l) => l.msg)).toContain('citygate stopped');
  });

  it('a disk-full error that escaped is waited out: not ready, then ready again, no exit', async () => {
    const run = await runWithFault('disk-full');
    let exitCode: number | null | undefined;
    void run.exited.then((c) => (exitCode = c));
    await vi.waitFor(() => expect(run.lines().map((l) => l.msg)).toContain('citygate started'), {
      timeout: 40_000,
    });
    await vi.waitFor(() => expect(run.lines().some((l) => l.place === 'registry')).toBe(true));
    // The registry's probe write goes through (the disk is not really full): ready again.
    await vi.waitFor(
      async () => {
        const res = await fetch(`${run.httpUrl}/readyz`);
        expect(await res.json()).toMatchObject({ ready: true, reasons: [] });
      },
      { timeout: 5000 },
    );
    expect(run.lines().filter((l) => l.level === 60)).toEqual([]);
    expect(exitCode).toBeUndefined();
    run.proc.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  });
});
