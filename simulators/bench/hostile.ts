import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type HostileResult, runHostileSuite } from '../hostile/driver.ts';
import { spawnGateway } from './processes.ts';

/**
 * The hostile-client suite (simulators/hostile/, the same one as test/hostile-clients.test.ts)
 * against a fresh gateway process; its figure is the gateway's worst event-loop delay meanwhile,
 * from perf_hooks.monitorEventLoopDelay inside the gateway (issue 8: no message stalls it > 50 ms).
 */
export async function measureHostile(opts: {
  seconds: number;
  seed: number;
  secretCost: number;
  log: (line: string) => void;
}): Promise<HostileResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'citygate-bench-hostile-'));
  // No INFLUX_URL: the archive sink, which the suite reads back to count what was stored.
  const gateway = await spawnGateway({ dataDir, secretCost: opts.secretCost, logLevel: 'error' });
  try {
    return await runHostileSuite(
      {
        mqttUrl: gateway.mqttUrl,
        httpUrl: gateway.httpUrl!,
        adminToken: gateway.adminToken!,
        dataDir,
        pid: gateway.pid,
        gone: () => {
          try {
            process.kill(gateway.pid, 0);
            return null;
          } catch {
            return `pid ${gateway.pid} exited: ${gateway.output().slice(-1500)}`;
          }
        },
      },
      { seed: opts.seed, seconds: opts.seconds, log: opts.log },
    );
  } finally {
    await gateway.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const ms = (v: number | null) => (v === null ? 'n/a' : `${v.toFixed(0)} ms`);

/** The one-line summary next to the throughput figures. */
export function hostileSummary(h: HostileResult): string {
  return (
    `worst event-loop delay under hostile clients: ${ms(h.eventLoopDelayMaxMs)} ` +
    `(seed ${h.seed}, ${h.runs} scenarios in ${h.seconds.toFixed(0)} s, /healthz max ${ms(h.healthz.maxMs)}, ` +
    `gateway on CPU at most ${ms(h.healthz.maxBusyMs)} of one probe, ` +
    `${h.violations.length ? `${h.violations.length} invariants broken` : 'invariants held'})`
  );
}

/** The section of docs/benchmarks.md. */
export function hostileMarkdown(h: HostileResult | undefined): string[] {
  if (!h) return ['## Hostile clients', '', 'Not run (`--hostile-seconds 0`).', ''];
  const a = h.acknowledged;
  return [
    '## Hostile clients',
    '',
    `The property-based hostile-client suite (simulators/hostile/, also test/hostile-clients.test.ts) for ${h.seconds.toFixed(0)} s`,
    `against a fresh gateway process: ${h.runs} generated scenarios (fast-check seed ${h.seed}) of valid and invalid`,
    'telemetry (nesting, sizes, arrays, own-property keys), command replies, topic strings and raw-socket',
    'fragments, bogus remaining lengths and bad authentications. The event-loop delay is measured inside',
    'the gateway (perf_hooks.monitorEventLoopDelay via `citygate_nodejs_eventloop_lag_max_seconds`,',
    'reset when the suite starts); /healthz is probed every 50 ms from a worker thread.',
    '',
    '| | |',
    '|---|---|',
    `| worst event-loop delay | **${ms(h.eventLoopDelayMaxMs)}** |`,
    `| /healthz, slowest answer | ${ms(h.healthz.maxMs)} (${h.healthz.probes} probes) |`,
    `| gateway event loop on CPU during one probe, at most | ${ms(h.healthz.maxBusyMs)} (a delay without CPU is the machine's, not the gateway's) |`,
    `| gateway RSS, largest seen | ${(h.maxRssBytes / 1024 ** 2).toFixed(0)} MiB |`,
    `| acknowledged | ${a.validReadings} valid readings, ${a.invalidPayloads} invalid payloads (${a.mixedPayloads} mixed), ${a.replies} replies |`,
    `| stored readings, quarantine entries | ${h.storedReadings}, ${h.quarantineEntries} |`,
    `| not acknowledged (QoS 1 publishes), actions refused | ${h.unacknowledged}, ${h.refusedActions} |`,
    `| invariants | ${h.violations.length ? h.violations.map((v) => v.replaceAll('|', '\\|')).join('; ') : 'all held'} |`,
    '',
    `Replay: \`HOSTILE_SEED=${h.seed} HOSTILE_SECONDS=${h.seconds.toFixed(0)} npx vitest run test/hostile-clients.test.ts\`.`,
    '',
  ];
}
