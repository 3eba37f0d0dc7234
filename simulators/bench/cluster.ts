import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ModelSpec } from '../../firmware-specs/define-device.ts';
import { createTestDatabase } from '../../test/helpers/pg.ts';
import { createTestRedis } from '../../test/helpers/redis.ts';
import type { DevicePlan } from '../hanoi.ts';
import { GatewayApi, provisionDevices } from '../load/gateway-api.ts';
import { WorkerPool } from '../load/pool.ts';
import { runLoad } from '../load/run.ts';
import { type ServerProcess, spawnGateway } from './processes.ts';

/** One mode's figures, for the node that carried the load. */
export interface ClusterModeRun {
  mode: 'single' | 'cluster';
  /** QoS 1 readings acknowledged per second, closed loop. */
  ingestPerSecond: number;
  acknowledged: number;
  stored: number;
  lost: number;
  /** CPU of the loaded node per acknowledged reading, µs. */
  cpuUsPerReading: number;
  connected: number;
  /** (RSS with the idle devices connected − RSS before) / connected. */
  perConnectionBytes: number;
  rssBytes: number;
}

export interface ClusterResult {
  devices: number;
  idleDevices: number;
  durationSeconds: number;
  nodes: number;
  runs: ClusterModeRun[];
  /** cluster ingest / single ingest. */
  ingestRatio: number;
}

/**
 * Issue 11's figure: what one node does in cluster mode (registry on PostgreSQL, broker on Redis,
 * a second node running so the Redis routing is live) against the single-process mode, in one
 * run on one machine: QoS 1 ingest of the loaded node and the memory of its idle connections.
 * On 2 cores the load generator, both nodes, Redis, PostgreSQL and VictoriaMetrics share the
 * CPUs: this is a per-node cost comparison, not the throughput of a cluster of machines.
 */
export async function measureCluster(opts: {
  specs: ReadonlyMap<string, ModelSpec>;
  plans: readonly DevicePlan[];
  /** Devices publishing in the ingest run. */
  devices: number;
  /** Idle devices connected for the memory figure. */
  idleDevices: number;
  durationSeconds: number;
  inflight: number;
  workers: number;
  connectsPerSecond: number;
  secretCost: number;
  victoriaUrl: string;
  log: (line: string) => void;
}): Promise<ClusterResult> {
  const runs: ClusterModeRun[] = [];
  for (const mode of ['single', 'cluster'] as const) {
    const cleanup: Array<() => Promise<void> | void> = [];
    try {
      const nodes: ServerProcess[] = [];
      let config: Record<string, string> | undefined;
      if (mode === 'cluster') {
        const db = await createTestDatabase('bench');
        const redis = createTestRedis('bench');
        cleanup.push(
          () => db.drop(),
          () => redis.cleanup(),
        );
        config = { DATABASE_URL: db.url, REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix };
      }
      for (let i = 0; i < (mode === 'cluster' ? 2 : 1); i++) {
        const dataDir = mkdtempSync(join(tmpdir(), `citygate-bench-${mode}-`));
        cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
        const node = await spawnGateway({
          dataDir,
          influxUrl: opts.victoriaUrl,
          secretCost: opts.secretCost,
          config: config && {
            ...config,
            NODE_ID: `bench-${i}`,
            CITYGATE_ADMIN_TOKEN: 'bench-cluster-admin-0123456789',
          },
        });
        cleanup.push(() => node.stop());
        nodes.push(node);
      }
      const node = nodes[0];
      const api = new GatewayApi(node.httpUrl!, node.adminToken!);
      opts.log(
        `\n${mode}: registering ${opts.plans.length} devices through ${mode === 'cluster' ? 'node 1 of 2' : 'the gateway'}`,
      );
      const devices = await provisionDevices(api, opts.plans, { concurrency: 16 });
      // Idle connections first, on a process that has not yet been through a load run's garbage.
      await sleep(3000);
      const rss0 = node.rssBytes();
      const pool = await WorkerPool.start({
        workers: opts.workers,
        mode: 'fleet',
        url: node.mqttUrl,
        qos: 1,
        devices: devices.slice(0, opts.idleDevices),
        connectsPerSecond: opts.connectsPerSecond,
      });
      cleanup.push(() => pool.stop());
      const ramp = await pool.connect(opts.idleDevices);
      if (ramp.failed)
        opts.log(
          `  ${mode}: ${ramp.failed} of ${opts.idleDevices} idle connections failed: ${[...new Set(ramp.errors)].slice(0, 3).join('; ')}`,
        );
      await sleep(3000);
      const connected = (await api.stats()).connectedDevices;
      const rssBytes = node.rssBytes();
      await pool.stop();
      let cpu0 = 0;
      const report = await runLoad({
        mqttUrl: node.mqttUrl,
        api,
        victoriaUrl: opts.victoriaUrl,
        devices: devices.slice(0, opts.devices),
        specs: opts.specs,
        qos: 1,
        rate: 'max',
        inflight: opts.inflight,
        durationSeconds: opts.durationSeconds,
        workers: opts.workers,
        connectsPerSecond: opts.connectsPerSecond,
        settleSeconds: 60,
        progress: false,
        log: opts.log,
        onPublishing: () => {
          cpu0 = node.cpuMs();
        },
      });
      const cpuMs = node.cpuMs() - cpu0;
      const run: ClusterModeRun = {
        mode,
        ingestPerSecond: report.throughput,
        acknowledged: report.acknowledged ?? 0,
        stored: report.stored ?? 0,
        lost: report.lost ?? 0,
        cpuUsPerReading: report.acknowledged ? (cpuMs * 1000) / report.acknowledged : Number.NaN,
        connected,
        perConnectionBytes: (rssBytes - rss0) / Math.max(1, connected),
        rssBytes,
      };
      opts.log(`  ${clusterRunLine(run)}`);
      runs.push(run);
    } finally {
      for (const fn of cleanup.reverse()) await Promise.resolve(fn()).catch(() => {});
    }
  }
  const [single, cluster] = runs;
  return {
    devices: opts.devices,
    idleDevices: opts.idleDevices,
    durationSeconds: opts.durationSeconds,
    nodes: 2,
    runs,
    ingestRatio: cluster.ingestPerSecond / single.ingestPerSecond,
  };
}

export function clusterRunLine(r: ClusterModeRun): string {
  return (
    `${r.mode.padEnd(7)} ${Math.round(r.ingestPerSecond)} readings/s per node (QoS 1), ` +
    `${r.cpuUsPerReading.toFixed(0)} µs CPU per reading, lost ${r.lost}; ` +
    `${r.connected} idle connections at ${(r.perConnectionBytes / 1024).toFixed(1)} KiB each, RSS ${(r.rssBytes / 1024 ** 2).toFixed(0)} MiB`
  );
}

export function clusterSummary(c: ClusterResult): string[] {
  return [
    ...c.runs.map(clusterRunLine),
    `cluster/single ingest per node: ${(c.ingestRatio * 100).toFixed(0)} %`,
  ];
}
