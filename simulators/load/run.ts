import { availableParallelism } from 'node:os';
import type { ModelSpec } from '../../firmware-specs/define-device.ts';
import type { GatewayApi, GatewayStats } from './gateway-api.ts';
import { WorkerPool } from './pool.ts';
import type { ProvisionedDevice, Rate } from './protocol.ts';
import { type LoadReport, latencySummary, ProgressLine } from './report.ts';
import { countStored } from './stored-count.ts';

export interface LoadOptions {
  /** `mqtt://127.0.0.1:1883` */
  mqttUrl: string;
  /** The gateway's API, for its counters (quarantined, outbox); absent for a bare broker. */
  api?: GatewayApi;
  /** victoria-metrics behind the gateway, to count what was stored; absent: not checked. */
  victoriaUrl?: string;
  devices: readonly ProvisionedDevice[];
  specs: ReadonlyMap<string, ModelSpec>;
  /** A broker without authentication: no secrets needed. */
  anonymous?: boolean;
  qos: 0 | 1;
  rate: Rate;
  /** Closed loop: readings each device keeps unacknowledged (default 1). */
  inflight?: number;
  durationSeconds: number;
  workers?: number;
  connectsPerSecond?: number;
  /** After the window: how long outstanding PUBACKs, the outbox and the database are awaited. */
  settleSeconds?: number;
  accelerate?: number;
  /** Live progress on stderr (default true when it is a terminal). */
  progress?: boolean;
  log?: (line: string) => void;
  /** Called when every device is connected and publishing is about to start. */
  onPublishing?: () => void;
}

/** Workers for a run: one per core, at least one per 2,500 devices, at most 8. */
export function defaultWorkers(devices: number): number {
  return Math.max(1, Math.min(8, Math.max(availableParallelism(), Math.ceil(devices / 2500))));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until the gateway's outbox is empty (everything handed to the sink), within `untilMs`. */
async function outboxDrained(api: GatewayApi, untilMs: number): Promise<GatewayStats> {
  let stats = await api.stats();
  while (stats.buffered > 0 && Date.now() < untilMs) {
    await sleep(200);
    stats = await api.stats();
  }
  return stats;
}

/**
 * One load run over devices already provisioned: connect them across worker processes at a
 * ramp, publish for the duration, await the acknowledgements, then check what reached the
 * time-series server.
 */
export async function runLoad(opts: LoadOptions): Promise<LoadReport> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const inflight = opts.inflight ?? 1;
  const settleMs = (opts.settleSeconds ?? 30) * 1000;
  const workers = opts.workers ?? defaultWorkers(opts.devices.length);
  const progress = opts.progress ?? Boolean(process.stderr.isTTY);
  const line = new ProgressLine();
  const pool = await WorkerPool.start({
    workers,
    mode: 'publish',
    url: opts.mqttUrl,
    qos: opts.qos,
    devices: opts.devices,
    connectsPerSecond: opts.connectsPerSecond ?? 500,
    accelerate: opts.accelerate,
    anonymous: opts.anonymous,
  });
  try {
    if (progress)
      pool.onProgress = (p) => line.update(p.counters, p.histogram, opts.devices.length, opts.qos);
    const connectStart = Date.now();
    const connected = await pool.connect();
    const connectSeconds = (Date.now() - connectStart) / 1000;
    log(
      `  ${connected.connected} of ${opts.devices.length} devices connected in ${connectSeconds.toFixed(1)} s ` +
        `over ${pool.size} worker process(es)` +
        (connected.failed ? `; ${connected.failed} failed (${connected.errors[0]})` : ''),
    );
    const before = opts.api ? await opts.api.stats() : undefined;
    const sinceMs = Date.now();
    opts.onPublishing?.();
    line.restart();
    const result = await pool.publish({
      durationMs: opts.durationSeconds * 1000,
      rate: opts.rate,
      inflight,
      drainMs: settleMs,
    });
    if (progress) line.end();
    const c = result.counters;
    const acknowledged = opts.qos === 1 ? c.acked : null;
    const delivered = opts.qos === 1 ? c.acked : c.sent - c.failed;

    let stored: number | null = null;
    let quarantined: number | null = null;
    if (opts.api && before) {
      const deadline = Date.now() + settleMs;
      const after = await outboxDrained(opts.api, deadline);
      quarantined = after.quarantined - before.quarantined;
      if (opts.victoriaUrl) {
        const count = () =>
          countStored({ victoriaUrl: opts.victoriaUrl!, devices: opts.devices, specs: opts.specs, sinceMs });
        stored = await count();
        // The sink acknowledged, yet the server may index a moment later: look again, bounded.
        while (stored < delivered - quarantined && Date.now() < deadline) {
          await sleep(500);
          stored = await count();
        }
      }
    }
    const lost = stored === null ? null : Math.max(0, delivered - stored - (quarantined ?? 0));
    return {
      target: opts.mqttUrl + (opts.anonymous ? ' (bare broker)' : ''),
      devices: opts.devices.length,
      connected: connected.connected,
      connectionErrors: connected.failed,
      connectSeconds,
      disconnects: c.disconnects,
      errorSamples: connected.errors,
      qos: opts.qos,
      rate: opts.rate,
      inflight,
      durationSeconds: opts.durationSeconds,
      sent: c.sent,
      acknowledged,
      unacknowledged: opts.qos === 1 ? c.sent - c.acked : 0,
      throttled: c.throttled,
      stored,
      quarantined,
      lost,
      throughput: (opts.qos === 1 ? c.ackedInWindow : c.sent) / opts.durationSeconds,
      latencyMs: opts.qos === 1 ? latencySummary(result.histogram) : null,
    };
  } finally {
    if (progress) line.end();
    await pool.stop();
  }
}
