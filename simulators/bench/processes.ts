import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FromServer, GatewayProcessOptions, ToServer } from './server-protocol.ts';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

export interface ServerProcess {
  readonly pid: number;
  readonly mqttUrl: string;
  readonly httpUrl?: string;
  readonly adminToken?: string;
  /** Resident set size now, from /proc/<pid>/status (VmRSS). */
  rssBytes(): number;
  /** CPU time (user + system) used so far, in milliseconds. */
  cpuMs(): number;
  /** The last lines it wrote, for error messages. */
  output(): string;
  stop(): Promise<void>;
}

/** VmRSS of a process in bytes (Linux). */
export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!m) throw new Error(`no VmRSS for process ${pid}`);
  return Number(m[1]) * 1024;
}

/** CPU time (user + system) of a process in ms, from /proc/<pid>/stat (clock ticks of 10 ms). */
export function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces: utime is field 14.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function spawnServer(
  file: string,
  env: Record<string, string>,
  opts: { cpuProfDir?: string; startTimeoutMs?: number },
): Promise<ServerProcess> {
  let out = '';
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-8000);
  };
  const proc: ChildProcess = fork(here(file), [], {
    execArgv: [
      // The runtime flags of `npm start`, for the bare broker and the gateway alike: a larger young
      // generation means fewer scavenges for a server that allocates per message.
      '--max-semi-space-size=64',
      '--import',
      'tsx',
      ...(opts.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`] : []),
    ],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const ready = await new Promise<Extract<FromServer, { type: 'ready' }>>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${file} did not start in time: ${out}`));
    }, opts.startTimeoutMs ?? 60_000);
    proc.on('message', (m: FromServer) => {
      clearTimeout(timer);
      if (m.type === 'ready') resolve(m);
      else reject(new Error(`${file}: ${m.message}`));
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${file} exited with code ${code}: ${out}`));
    });
  });
  return {
    pid: proc.pid!,
    mqttUrl: `mqtt://127.0.0.1:${ready.mqttPort}`,
    httpUrl: ready.httpPort ? `http://127.0.0.1:${ready.httpPort}` : undefined,
    adminToken: ready.adminToken,
    rssBytes: () => rssOf(proc.pid!),
    cpuMs: () => cpuMsOf(proc.pid!),
    output: () => out,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
        proc.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        proc.send({ type: 'stop' } satisfies ToServer);
      }),
  };
}

/** The full gateway in a child process; `cpuProfDir` writes a V8 CPU profile on stop. */
export function spawnGateway(opts: GatewayProcessOptions & { cpuProfDir?: string }): Promise<ServerProcess> {
  const { cpuProfDir, ...gateway } = opts;
  return spawnServer(
    './gateway-process.ts',
    { CITYGATE_BENCH_GATEWAY: JSON.stringify(gateway) },
    { cpuProfDir },
  );
}

/** A bare Aedes broker (no hooks) in a child process. */
export function spawnBareBroker(opts: { cpuProfDir?: string } = {}): Promise<ServerProcess> {
  return spawnServer('./bare-broker-process.ts', {}, opts);
}
