import type { ModelSpec } from '../../firmware-specs/define-device.ts';
import type { GatewayApi } from '../load/gateway-api.ts';
import type { ProvisionedDevice } from '../load/protocol.ts';
import { formatReport, type LoadReport } from '../load/report.ts';
import { runLoad } from '../load/run.ts';
import type { ServerProcess } from './processes.ts';

export interface ServerRun {
  report: LoadReport;
  /** CPU of the server process from the start of publishing until everything was settled. */
  serverCpuMs: number;
  /** Server CPU per acknowledged reading (for the gateway this includes the outbox and sink). */
  serverCpuUsPerReading: number;
  serverRssBytes: number;
}

export interface ThroughputResult {
  devices: number;
  inflight: number;
  durationSeconds: number;
  rounds: { bare: ServerRun; gateway: ServerRun }[];
  /** Medians over the rounds, readings/s. */
  bare: number;
  gateway: number;
  ratio: number;
  acknowledged: number;
  stored: number;
  lost: number;
}

export interface LatencyResult {
  rate: number;
  durationSeconds: number;
  bare: ServerRun;
  gateway: ServerRun;
}

export interface LoadTarget {
  devices: readonly ProvisionedDevice[];
  specs: ReadonlyMap<string, ModelSpec>;
  bare: ServerProcess;
  gateway: ServerProcess;
  api: GatewayApi;
  victoriaUrl: string;
  workers: number;
  connectsPerSecond: number;
  log: (line: string) => void;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function runOn(
  t: LoadTarget,
  server: 'bare' | 'gateway',
  load: { rate: number | 'max'; inflight: number; durationSeconds: number },
): Promise<ServerRun> {
  const proc = t[server];
  let cpu0 = 0;
  const report = await runLoad({
    mqttUrl: proc.mqttUrl,
    anonymous: server === 'bare',
    ...(server === 'gateway' ? { api: t.api, victoriaUrl: t.victoriaUrl } : {}),
    devices: t.devices,
    specs: t.specs,
    qos: 1,
    ...load,
    workers: t.workers,
    connectsPerSecond: t.connectsPerSecond,
    settleSeconds: 60,
    progress: Boolean(process.stderr.isTTY),
    log: t.log,
    onPublishing: () => {
      cpu0 = proc.cpuMs();
    },
  });
  const serverCpuMs = proc.cpuMs() - cpu0;
  t.log(formatReport(report));
  return {
    report,
    serverCpuMs,
    serverCpuUsPerReading: report.acknowledged ? (serverCpuMs * 1000) / report.acknowledged : Number.NaN,
    serverRssBytes: proc.rssBytes(),
  };
}

/**
 * The same closed-loop QoS 1 load (each device keeps `inflight` readings unacknowledged) against
 * the bare broker and the full gateway, alternating in rounds so that other work on the machine
 * hits both alike; the medians give the ratio.
 */
export async function measureThroughput(
  t: LoadTarget,
  opts: { rounds: number; durationSeconds: number; inflight: number },
): Promise<ThroughputResult> {
  const rounds: ThroughputResult['rounds'] = [];
  for (let i = 0; i < opts.rounds; i++) {
    t.log(`\nthroughput round ${i + 1}/${opts.rounds}: bare Aedes broker`);
    const bare = await runOn(t, 'bare', { rate: 'max', ...opts });
    t.log(`\nthroughput round ${i + 1}/${opts.rounds}: full gateway`);
    const gateway = await runOn(t, 'gateway', { rate: 'max', ...opts });
    rounds.push({ bare, gateway });
  }
  const bare = median(rounds.map((r) => r.bare.report.throughput));
  const gateway = median(rounds.map((r) => r.gateway.report.throughput));
  const sum = (f: (r: LoadReport) => number | null) =>
    rounds.reduce((s, r) => s + (f(r.gateway.report) ?? 0), 0);
  return {
    devices: t.devices.length,
    inflight: opts.inflight,
    durationSeconds: opts.durationSeconds,
    rounds,
    bare,
    gateway,
    ratio: gateway / bare,
    acknowledged: sum((r) => r.acknowledged),
    stored: sum((r) => r.stored),
    lost: sum((r) => r.lost),
  };
}

/** Publish-to-PUBACK latency of both at one fixed rate that both sustain. */
export async function measureLatency(
  t: LoadTarget,
  opts: { rate: number; durationSeconds: number },
): Promise<LatencyResult> {
  const load = { rate: opts.rate, inflight: 100, durationSeconds: opts.durationSeconds };
  t.log(`\nlatency at ${opts.rate} readings/s: bare Aedes broker`);
  const bare = await runOn(t, 'bare', load);
  t.log(`\nlatency at ${opts.rate} readings/s: full gateway`);
  const gateway = await runOn(t, 'gateway', load);
  return { rate: opts.rate, durationSeconds: opts.durationSeconds, bare, gateway };
}
