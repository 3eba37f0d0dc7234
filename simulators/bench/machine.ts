import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, totalmem } from 'node:os';

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  kernel: string;
  node: string;
  packages: Record<string, string>;
  victoriaMetrics: string;
  /** 1-minute load average when the bench started: other work on the machine skews the figures. */
  loadAverageAtStart: number;
  filesystem: string;
}

const require = createRequire(import.meta.url);

function version(pkg: string): string {
  try {
    // Read the file itself: some packages do not export their package.json.
    const entry = require.resolve(pkg);
    const root = entry.slice(0, entry.lastIndexOf(`node_modules/${pkg}/`) + `node_modules/${pkg}/`.length);
    return (JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function run(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

/** What the figures were measured on. */
export function describeMachine(dataDir: string): Machine {
  const osRelease = readFileSync('/etc/os-release', 'utf8');
  const pretty = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(osRelease)?.[1] ?? 'unknown';
  // The Debian build prints no -version; its package version says it.
  const vm = `victoria-metrics ${run('dpkg-query', ['-W', `-f=${'$'}{Version}`, 'victoria-metrics'])}`;
  const fs = run('df', ['--output=fstype', dataDir]).split('\n').at(-1) ?? 'unknown';
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    os: pretty,
    kernel: run('uname', ['-r']),
    node: process.version,
    packages: Object.fromEntries(
      ['aedes', 'mqtt', 'better-sqlite3', 'zod', 'fastify', '@influxdata/influxdb-client'].map((p) => [
        p,
        version(p),
      ]),
    ),
    victoriaMetrics: vm,
    loadAverageAtStart: Math.round(loadavg()[0] * 100) / 100,
    filesystem: fs,
  };
}
