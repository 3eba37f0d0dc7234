import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './victoria.ts';

/** A real InfluxDB 1.x (Debian's `influxdb` package, binary `influxd`) on free ports. */
export interface Influxd {
  url: string;
  dir: string;
  /** InfluxQL through `/query` (epoch ms); throws on an error in any statement. */
  query(
    q: string,
    db?: string,
  ): Promise<Array<{ series?: Array<{ name: string; columns: string[]; values: unknown[][] }> }>>;
  createDatabase(db: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts `influxd run -config <generated>`: HTTP and the RPC bind address (top-level
 * `bind-address`, used by backup/restore) on free loopback ports, meta, data and WAL in a temporary
 * directory, usage reporting, the monitor store and continuous queries off, logs at error level.
 */
export async function startInfluxd(): Promise<Influxd> {
  const [httpPort, rpcPort] = [await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'citygate-influxd-'));
  const config = join(dir, 'influxdb.conf');
  writeFileSync(
    config,
    `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"
[meta]
  dir = "${join(dir, 'meta')}"
  logging-enabled = false
[data]
  dir = "${join(dir, 'data')}"
  wal-dir = "${join(dir, 'wal')}"
  query-log-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:${httpPort}"
  log-enabled = false
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
[logging]
  level = "error"
`,
  );
  let out = '';
  const proc: ChildProcess = spawn('influxd', ['run', '-config', config], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout?.on('data', (d) => (out += d));
  proc.stderr?.on('data', (d) => (out += d));
  const url = `http://127.0.0.1:${httpPort}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`influxd exited: ${out}`);
    const ok = await fetch(`${url}/ping`).then(
      (r) => r.status === 204,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`influxd did not answer /ping: ${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const query: Influxd['query'] = async (q, db) => {
    const body = new URLSearchParams({ q, epoch: 'ms', ...(db ? { db } : {}) });
    const res = await fetch(`${url}/query`, { method: 'POST', body });
    const json = (await res.json()) as { error?: string; results?: Array<{ error?: string }> };
    const err = json.error ?? json.results?.find((r) => r.error)?.error;
    if (err) throw new Error(`influxd: ${err}`);
    return json.results as Awaited<ReturnType<Influxd['query']>>;
  };
  return {
    url,
    dir,
    query,
    async createDatabase(db) {
      await query(`CREATE DATABASE "${db}"`);
    },
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
