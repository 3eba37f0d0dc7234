import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A real victoria-metrics (Debian package) speaking InfluxDB's v2 write API, on a free port. */
export interface Victoria {
  url: string;
  port: number;
  dataDir: string;
  stop(): Promise<void>;
  /** Starts it again on the same port and data (after stop()). */
  restart(): Promise<void>;
  /** Every stored sample of the series matching the selector. */
  exportSeries(selector: string): Promise<ExportedSeries[]>;
  /** Number of samples matching the selector. */
  countSamples(selector: string): Promise<number>;
}

export interface ExportedSeries {
  metric: Record<string, string>;
  values: number[];
  timestamps: number[];
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function waitHealthy(url: string, proc: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`victoria-metrics exited: ${output()}`);
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`victoria-metrics did not become healthy: ${output()}`);
}

/** Every stored sample of the series matching the selector (after making recent writes searchable). */
export async function exportSeries(url: string, selector: string): Promise<ExportedSeries[]> {
  await fetch(`${url}/internal/force_flush`);
  const res = await fetch(`${url}/api/v1/export?match[]=${encodeURIComponent(selector)}&start=0`);
  if (!res.ok) throw new Error(`export failed: ${res.status} ${await res.text()}`);
  return (await res.text())
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ExportedSeries);
}

export async function startVictoria(): Promise<Victoria> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'citygate-vm-'));
  const url = `http://127.0.0.1:${port}`;
  let proc: ChildProcess;
  const launch = async () => {
    let out = '';
    proc = spawn(
      'victoria-metrics',
      [
        `-httpListenAddr=127.0.0.1:${port}`,
        `-storageDataPath=${dataDir}`,
        '-retentionPeriod=100y',
        '-search.latencyOffset=0s',
        '-loggerLevel=ERROR',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    proc.stdout?.on('data', (d) => (out += d));
    proc.stderr?.on('data', (d) => (out += d));
    await waitHealthy(url, proc, () => out);
  };
  await launch();
  const stopProc = () =>
    new Promise<void>((resolve) => {
      if (proc.exitCode !== null) return resolve();
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    });
  const exportOwn = (selector: string) => exportSeries(url, selector);
  return {
    url,
    port,
    dataDir,
    stop: stopProc,
    restart: launch,
    exportSeries: exportOwn,
    async countSamples(selector) {
      return (await exportOwn(selector)).reduce((n, s) => n + s.values.length, 0);
    },
  };
}

export async function stopAndRemove(vm: Victoria): Promise<void> {
  await vm.stop();
  rmSync(vm.dataDir, { recursive: true, force: true });
}
