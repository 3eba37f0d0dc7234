import fc from 'fast-check';
import mqtt from 'mqtt';
import { GatewayApi } from '../load/gateway-api.ts';
import {
  type ActionContext,
  type Credentials,
  type Fleet,
  PUBLISH_TIMEOUT_MS,
  runAction,
  withTimeout,
} from './actions.ts';
import { type Action, buildValid, MODEL, scenario } from './arbitraries.ts';
import { HealthzProbe, healthzProblem, type ProbeStats } from './healthz-probe.ts';
import { audit, Ledger, readArchive } from './ledger.ts';

/**
 * The hostile-client suite against a live gateway in another process: fast-check generates
 * scenarios of a few concurrent actions (valid and hostile telemetry, command replies, raw-socket
 * attacks) and after each one checks that the process is the same and /healthz kept answering
 * within the limit; at the end, every acknowledged reading is accounted for (ledger.ts) and a
 * valid reading sent afterwards is stored.
 */
export interface HostileTarget {
  mqttUrl: string;
  httpUrl: string;
  adminToken: string;
  /** The gateway's data directory (its archive sink, no INFLUX_URL). */
  dataDir: string;
  /** The gateway process, for the CPU time of its event loop (healthz-probe.ts). */
  pid?: number;
  /** null while the process that started is running; else what became of it. */
  gone(): string | null;
}

export interface HostileOptions {
  seed: number;
  /** Stop after this many seconds of scenarios (whichever of seconds and runs comes first). */
  seconds: number;
  runs?: number;
  healthzLimitMs?: number;
  /** Count every /healthz answer over the limit, even while the machine starved the gateway of CPU. */
  healthzStrict?: boolean;
  log?: (line: string) => void;
}

export interface HostileResult {
  seed: number;
  runs: number;
  seconds: number;
  /** Every broken invariant; empty when the suite passed. */
  violations: string[];
  /** fast-check's report of the failing scenario (seed, path, counterexample). */
  counterexample?: string;
  acknowledged: { validReadings: number; invalidPayloads: number; mixedPayloads: number; replies: number };
  refusedActions: number;
  /** QoS 1 publishes the gateway did not acknowledge (oversized, cut off, timed out). */
  unacknowledged: number;
  storedReadings: number;
  quarantineEntries: number;
  /** Slowest /healthz answer, and the most CPU the gateway's event loop used during one probe. */
  healthz: { probes: number; maxMs: number; maxBusyMs: number; strict: boolean };
  /** The gateway's largest resident set seen by the probe (VmRSS). */
  maxRssBytes: number;
  /** The gateway's worst event-loop delay over the scenarios (perf_hooks.monitorEventLoopDelay, in the gateway). */
  eventLoopDelayMaxMs: number | null;
}

/** prom-client's default metrics include a monitorEventLoopDelay histogram, reset at each scrape. */
const EVENT_LOOP_MAX = /^citygate_nodejs_eventloop_lag_max_seconds(?:\{[^}]*\})? (\S+)$/m;

export async function eventLoopDelayMaxMs(httpUrl: string): Promise<number | null> {
  try {
    const text = await fetch(`${httpUrl}/metrics`, { signal: AbortSignal.timeout(5000) }).then((r) =>
      r.text(),
    );
    const m = EVENT_LOOP_MAX.exec(text);
    return m ? Number(m[1]) * 1000 : null;
  } catch {
    return null;
  }
}

const ROLES = { valid: 6, hostile: 24, raw: 6, command: 4 } as const;

async function registerFleet(api: GatewayApi): Promise<Fleet> {
  const one = async (id: string): Promise<Credentials> => {
    const res = await api.call('POST', '/api/devices', {
      id,
      ...MODEL,
      district: 'Hoàn Kiếm',
      ward: 'Hàng Bạc',
    });
    if (res.status !== 201) throw new Error(`registering ${id}: ${res.status} ${JSON.stringify(res.body)}`);
    return { id, secret: res.body.secret };
  };
  const many = (role: string, n: number) =>
    Promise.all(Array.from({ length: n }, (_, i) => one(`hostile-${role}-${i}`)));
  return {
    valid: await many('valid', ROLES.valid),
    hostile: await many('hostile', ROLES.hostile),
    raw: await many('raw', ROLES.raw),
    command: await many('command', ROLES.command),
    victim: await one('hostile-victim'),
  };
}

/** After the storm: a device that did nothing wrong connects, sends one reading, and it is stored. */
async function validReadingAfterwards(
  api: GatewayApi,
  target: HostileTarget,
  ctx: ActionContext,
): Promise<string | null> {
  const res = await api.call('POST', '/api/devices', {
    id: 'hostile-afterwards',
    ...MODEL,
    district: 'Hoàn Kiếm',
    ward: 'Hàng Bạc',
  });
  if (res.status !== 201) return `registering a device afterwards: ${res.status}`;
  const { payload, stamps } = buildValid({ count: 1, asArray: false, dim: 33 }, ctx.ts);
  try {
    const client = await mqtt.connectAsync(target.mqttUrl, {
      clientId: 'hostile-afterwards',
      username: 'hostile-afterwards',
      password: res.body.secret,
      reconnectPeriod: 0,
      connectTimeout: 5000,
    });
    try {
      await withTimeout(
        client.publishAsync('devices/hostile-afterwards/telemetry', payload, { qos: 1 }),
        PUBLISH_TIMEOUT_MS,
        'a valid reading afterwards',
      );
    } finally {
      client.end(true);
    }
  } catch (err) {
    return `a valid reading sent afterwards: ${(err as Error).message}`;
  }
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (readArchive(target.dataDir).get('hostile-afterwards')?.has(stamps[0])) return null;
    await new Promise((r) => setTimeout(r, 200));
  }
  return 'a valid reading sent afterwards was acknowledged but not stored within 10 s';
}

export async function runHostileSuite(target: HostileTarget, opts: HostileOptions): Promise<HostileResult> {
  const log = opts.log ?? (() => {});
  const limitMs = opts.healthzLimitMs ?? 100;
  const api = new GatewayApi(target.httpUrl, target.adminToken);
  const fleet = await registerFleet(api);
  const ledger = new Ledger();
  const violations: string[] = [];
  const cursor = { valid: 0, hostile: 0, raw: 0, command: 0 };
  // Device timestamps: one millisecond apart from an hour ago, unique over the run.
  let stamp = Date.now() - 3600_000;
  let source = 0;
  let runViolations: string[] = [];
  const ctx: ActionContext = {
    mqttUrl: target.mqttUrl,
    api,
    fleet,
    ledger,
    ts: () => ++stamp,
    next: (role) => fleet[role][cursor[role]++ % fleet[role].length],
    sourceAddress: () => `127.0.0.${2 + (source++ % 250)}`,
    violation: (message) => runViolations.push(message),
  };

  // One valid and one invalid reading and a command first: the first of each compiles code paths
  // and prepares statements, which is start-up, not the suite's subject.
  await runAction(ctx, { on: 'valid', payload: { count: 2, asArray: true, dim: 1 }, qos: 1 });
  await runAction(ctx, { on: 'hostile', topic: 'telemetry', payload: { kind: 'json', value: {} }, qos: 1 });
  await runAction(ctx, { on: 'command', name: 'setDimming', reply: { kind: 'wellFormed', ok: true } });
  const strict = opts.healthzStrict ?? false;
  const probe = new HealthzProbe(target.httpUrl, { limitMs, strict, pid: target.pid });
  const healthz = { probes: 0, maxMs: 0, maxBusyMs: 0, strict };
  let maxRssBytes = 0;
  const takeProbe = async (): Promise<ProbeStats> => {
    const s = await probe.take();
    healthz.probes += s.probes;
    healthz.maxMs = Math.max(healthz.maxMs, s.maxMs, s.pendingMs);
    healthz.maxBusyMs = Math.max(healthz.maxBusyMs, s.maxBusyMs);
    maxRssBytes = Math.max(maxRssBytes, s.maxRssBytes);
    return s;
  };
  await takeProbe();
  await eventLoopDelayMaxMs(target.httpUrl); // resets the histogram: start-up is not the suite's
  const started = Date.now();
  let runs = 0;
  // fast-check's time limit may interrupt a scenario midway: its actions are awaited before the audit.
  const inFlight = new Set<Promise<unknown>>();

  const property = fc.asyncProperty(scenario, async (actions: Action[]) => {
    runs++;
    runViolations = [];
    const all = Promise.all(actions.map((a) => runAction(ctx, a)));
    inFlight.add(all);
    await all.finally(() => inFlight.delete(all));
    const gone = target.gone();
    if (gone) runViolations.push(`the gateway process is gone: ${gone}`);
    const slow = healthzProblem(await takeProbe(), limitMs);
    if (slow) runViolations.push(slow);
    if (runViolations.length) throw new Error(runViolations.join('; '));
  });
  const details = await fc.check(property, {
    seed: opts.seed,
    numRuns: opts.runs ?? Number.MAX_SAFE_INTEGER,
    interruptAfterTimeLimit: opts.seconds * 1000,
    markInterruptAsFailure: false,
    // A crashed gateway fails every later run: shrinking against it would mean nothing.
    endOnFailure: true,
  });
  await Promise.allSettled([...inFlight]);
  const seconds = (Date.now() - started) / 1000;
  let counterexample: string | undefined;
  // Interrupted by the time limit before any scenario finished is no failure of the gateway.
  const failed = details.failed && details.errorInstance != null;
  if (failed) {
    const error = details.errorInstance;
    violations.push(error instanceof Error ? error.message : String(error));
    counterexample = fc.defaultReportMessage(details);
  } else violations.push(...runViolations); // a scenario the time limit cut short
  const gone = target.gone();
  let eventLoop: number | null = null;
  let accounted = { storedReadings: 0, quarantineEntries: 0 };
  if (!gone) {
    eventLoop = await eventLoopDelayMaxMs(target.httpUrl);
    const a = await audit(ledger, api, target.dataDir);
    violations.push(...a.violations);
    accounted = { storedReadings: a.storedReadings, quarantineEntries: a.quarantineEntries };
    const afterwards = await validReadingAfterwards(api, target, ctx);
    if (afterwards) violations.push(afterwards);
    const slow = healthzProblem(await takeProbe(), limitMs);
    if (slow) violations.push(`after the scenarios: ${slow}`);
  } else if (!failed || !violations.some((v) => v.includes('process is gone')))
    violations.push(`the gateway process is gone: ${gone}`);
  await probe.stop();
  log(
    `hostile: seed ${opts.seed}, ${runs} scenarios in ${seconds.toFixed(0)} s; acknowledged ${ledger.validReadings} valid readings, ` +
      `${ledger.hostilePayloads} invalid payloads, ${ledger.replies} replies; ${ledger.unacknowledged} publishes not acknowledged, ${ledger.refused} actions refused; ` +
      `/healthz max ${healthz.maxMs.toFixed(0)} ms (gateway on CPU at most ${healthz.maxBusyMs} ms of one); event loop max ${eventLoop?.toFixed(0) ?? 'n/a'} ms; RSS max ${(maxRssBytes / 1024 ** 2).toFixed(0)} MiB`,
  );
  return {
    seed: opts.seed,
    runs,
    seconds,
    violations,
    counterexample,
    acknowledged: {
      validReadings: ledger.validReadings,
      invalidPayloads: ledger.hostilePayloads,
      mixedPayloads: ledger.mixed.length,
      replies: ledger.replies,
    },
    refusedActions: ledger.refused,
    unacknowledged: ledger.unacknowledged,
    ...accounted,
    healthz,
    maxRssBytes,
    eventLoopDelayMaxMs: eventLoop,
  };
}
