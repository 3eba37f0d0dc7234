import type { GatewayApi } from '../load/gateway-api.ts';
import type { WorkerPool } from '../load/pool.ts';
import type { ServerProcess } from './processes.ts';

export interface ConnectionStep {
  devices: number;
  connected: number;
  failed: number;
  /** Seconds this step's connections took at the ramp rate. */
  seconds: number;
  rssBytes: number;
  /** (RSS now - RSS with no connection) / connected devices. */
  perConnectionBytes: number;
}

export interface ConnectionResult {
  connectsPerSecond: number;
  baselineRssBytes: number;
  registeredDevices: number;
  steps: ConnectionStep[];
}

const SETTLE_MS = 3000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * RSS of the gateway process (VmRSS) with no devices connected, then with each count of idle
 * simulated devices connected (subscribed to their commands, each having reported its state).
 */
export async function measureConnections(opts: {
  gateway: ServerProcess;
  api: GatewayApi;
  pool: WorkerPool;
  steps: readonly number[];
  connectsPerSecond: number;
  log: (line: string) => void;
}): Promise<ConnectionResult> {
  await sleep(SETTLE_MS);
  const baselineRssBytes = opts.gateway.rssBytes();
  const registeredDevices = (await opts.api.stats()).devices;
  opts.log(`  gateway RSS with no device connected: ${(baselineRssBytes / 1024 ** 2).toFixed(0)} MiB`);
  const steps: ConnectionStep[] = [];
  for (const target of opts.steps) {
    const started = Date.now();
    const result = await opts.pool.connect(target);
    const seconds = (Date.now() - started) / 1000;
    await sleep(SETTLE_MS);
    const stats = await opts.api.stats();
    const rssBytes = opts.gateway.rssBytes();
    const step: ConnectionStep = {
      devices: target,
      connected: stats.connectedDevices,
      failed: result.failed,
      seconds,
      rssBytes,
      perConnectionBytes: (rssBytes - baselineRssBytes) / Math.max(1, stats.connectedDevices),
    };
    steps.push(step);
    opts.log(
      `  ${step.connected} connected (${step.failed} failed) in ${seconds.toFixed(1)} s: RSS ` +
        `${(rssBytes / 1024 ** 2).toFixed(0)} MiB, ${(step.perConnectionBytes / 1024).toFixed(1)} KiB per connection`,
    );
    if (result.failed) opts.log(`    first errors: ${result.errors.slice(0, 3).join('; ')}`);
  }
  return { connectsPerSecond: opts.connectsPerSecond, baselineRssBytes, registeredDevices, steps };
}
