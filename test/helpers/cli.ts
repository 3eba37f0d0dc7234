import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { TestGateway } from './gateway.ts';

const run = promisify(execFile);

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

/** The real `citygate` CLI as its own process against a test gateway; a non-zero exit is a result. */
export function runCli(
  gw: TestGateway,
  args: string[],
  opts: { token?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  return run(process.execPath, ['bin/citygate.js', ...args], {
    env: { ...process.env, CITYGATE_URL: gw.httpUrl, CITYGATE_TOKEN: opts.token ?? gw.admin },
    timeout: opts.timeoutMs ?? 0,
  }).then(
    (r) => ({ code: 0, out: r.stdout, err: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout, err: e.stderr }),
  );
}

/** The CLI with only the given environment for finding its gateway (no CITYGATE_URL/TOKEN). */
export function runCliWithEnv(
  env: Record<string, string>,
  args: string[],
  opts: { cwd?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  const { CITYGATE_URL: _u, CITYGATE_TOKEN: _t, CITYGATE_DATA_DIR: _d, ...rest } = process.env;
  return run(process.execPath, [`${process.cwd()}/bin/citygate.js`, ...args], {
    env: { ...rest, ...env },
    cwd: opts.cwd,
    timeout: opts.timeoutMs ?? 0,
  }).then(
    (r) => ({ code: 0, out: r.stdout, err: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout, err: e.stderr }),
  );
}
