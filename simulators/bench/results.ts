import type { HostileResult } from '../hostile/driver.ts';
import type { ClusterResult } from './cluster.ts';
import type { ConnectionResult } from './connections.ts';
import type { FanoutResult } from './fanout.ts';
import type { ImportBenchResult } from './import.ts';
import type { IngestCostRow } from './ingest-cost.ts';
import type { Machine } from './machine.ts';
import type { LatencyResult, ThroughputResult } from './throughput.ts';

export interface BenchSettings {
  registeredDevices: number;
  throughputDevices: number;
  inflight: number;
  rounds: number;
  durationSeconds: number;
  latencySeconds: number;
  latencyRate: number;
  throughputConnectsPerSecond: number;
  workers: number;
  connectsPerSecond: number;
  secretCost: number;
  connectionSteps: number[];
  fanoutRatePerSecond: number;
}

export interface BenchResults {
  startedAt: string;
  seconds: number;
  machine: Machine;
  settings: BenchSettings;
  registration: { devices: number; seconds: number };
  ingestCost: IngestCostRow[];
  throughput: ThroughputResult;
  latency: LatencyResult;
  connections: ConnectionResult;
  fanout: FanoutResult;
  /** The hostile-client suite; absent when skipped. */
  hostile?: HostileResult;
  /** Per-node ingest and connections, cluster mode against single mode (issue 11); with --cluster. */
  cluster?: ClusterResult;
  /** One CSV import of many devices (issue 12); absent when skipped. */
  deviceImport?: ImportBenchResult;
}

export interface TargetCheck {
  name: string;
  target: string;
  measured: string;
  /** null: not measured in this run. */
  met: boolean | null;
}

const GIB = 1024 ** 3;

/** The targets (docs/benchmarks.md), judged on this run's figures. */
export function checkTargets(r: BenchResults): TargetCheck[] {
  const last = r.connections.steps.at(-1);
  const fan = r.fanout;
  const fanComplete = fan.replied && fan.replied.count >= fan.streetlights;
  return [
    {
      name: 'QoS 1 ingest, full gateway / bare Aedes',
      target: '≥ 50 %',
      measured: `${(r.throughput.ratio * 100).toFixed(0)} % (${Math.round(r.throughput.gateway).toLocaleString('en-US')} / ${Math.round(
        r.throughput.bare,
      ).toLocaleString('en-US')} readings/s)`,
      met: r.throughput.ratio >= 0.5,
    },
    {
      name: 'readings lost (acknowledged, not stored)',
      target: '0',
      measured: `${r.throughput.lost} of ${r.throughput.acknowledged.toLocaleString('en-US')}`,
      met: r.throughput.lost === 0 && r.throughput.stored === r.throughput.acknowledged,
    },
    {
      name: `gateway RSS with ${last?.devices.toLocaleString('en-US') ?? '10,000'} devices connected`,
      target: '< 1 GiB',
      measured: last
        ? `${(last.rssBytes / 1024 ** 2).toFixed(0)} MiB (${last.connected} connected)`
        : 'not measured',
      met: last ? last.rssBytes < GIB && last.connected >= last.devices : null,
    },
    {
      name: `bulk dimming of ${fan.streetlights.toLocaleString('en-US')} streetlights, all replied`,
      target: '≤ 5 s',
      measured: fan.skipped
        ? `skipped: ${fan.skipped}`
        : `${fan.replied!.all.toFixed(2)} s (${fan.replied!.count} of ${fan.streetlights} replied)`,
      met: fan.skipped ? null : Boolean(fanComplete && fan.replied!.all <= 5),
    },
    {
      name: 'worst event-loop delay under hostile clients',
      target: '≤ 50 ms',
      measured:
        r.hostile?.eventLoopDelayMaxMs == null
          ? 'not measured'
          : `${r.hostile.eventLoopDelayMaxMs.toFixed(0)} ms (${r.hostile.runs} scenarios, seed ${r.hostile.seed})`,
      met: r.hostile?.eventLoopDelayMaxMs == null ? null : r.hostile.eventLoopDelayMaxMs <= 50,
    },
    {
      name: `${(r.deviceImport?.devices ?? 100_000).toLocaleString('en-US')} devices in one CSV import`,
      target: '< 60 s',
      measured: r.deviceImport
        ? `${r.deviceImport.seconds.toFixed(1)} s (gateway CPU ${r.deviceImport.cpuSeconds.toFixed(1)} s)`
        : 'not measured',
      met: r.deviceImport ? r.deviceImport.seconds < 60 && r.deviceImport.devices >= 100_000 : null,
    },
  ];
}
