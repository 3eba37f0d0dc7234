import { Worker } from 'node:worker_threads';

/**
 * GET /healthz every `everyMs` from a worker thread, so that the hostile clients' own work in the
 * main thread (building megabyte payloads) does not count as the gateway's latency.
 *
 * On a loaded machine (six jobs on two cores) an idle gateway can wait 150 ms for a core, which
 * says nothing about the gateway. So each probe also reads the CPU time of the gateway's main
 * thread (/proc/<pid>/task/<pid>/stat, Linux): a probe is slow when it took longer than the limit
 * AND the gateway's event loop was itself on the CPU for longer than the limit meanwhile, i.e.
 * the gateway's own work kept it from answering. `strict` counts every probe over the limit.
 */
const PROBE = `
const { parentPort, workerData } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
const http = require('node:http');
const { limitMs, strict, pid, url, everyMs } = workerData;
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const fresh = () => ({ probes: 0, maxMs: 0, maxBusyMs: 0, maxRssBytes: 0, slow: 0, failed: 0, worst: '' });
let stats = fresh();
let pending = null;
let stopped = false;
// utime + stime of the gateway's main thread in ms (clock ticks of 10 ms); null off Linux.
function cpuMs() {
  if (!pid) return null;
  try {
    const stat = readFileSync('/proc/' + pid + '/task/' + pid + '/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch { return null; }
}
function rssBytes() {
  if (!pid) return 0;
  try {
    const m = /^VmRSS:\\s+(\\d+)\\s+kB/m.exec(readFileSync('/proc/' + pid + '/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch { return 0; }
}
function measure(p) {
  const ms = performance.now() - p.t0;
  const cpu = cpuMs();
  const busyMs = cpu === null || p.cpu0 === null ? null : cpu - p.cpu0;
  return { ms, busyMs, slow: ms > limitMs && (strict || busyMs === null || busyMs > limitMs) };
}
function record(p, error) {
  const m = measure(p);
  stats.probes++;
  stats.maxMs = Math.max(stats.maxMs, m.ms);
  if (m.busyMs !== null) stats.maxBusyMs = Math.max(stats.maxBusyMs, m.busyMs);
  stats.maxRssBytes = Math.max(stats.maxRssBytes, rssBytes());
  const what = m.ms.toFixed(0) + ' ms' + (m.busyMs === null ? '' : ', gateway on CPU ' + m.busyMs + ' ms');
  if (error) { stats.failed++; stats.worst = error + ' after ' + what; }
  else if (m.slow) { stats.slow++; stats.worst = what; }
}
function probe() {
  if (stopped) return;
  const p = { t0: performance.now(), cpu0: cpuMs(), finished: false };
  pending = p;
  const done = (error) => {
    if (p.finished) return;
    p.finished = true;
    pending = null;
    record(p, error);
    setTimeout(probe, everyMs);
  };
  const req = http.get(url + '/healthz', { agent, timeout: 5000 }, (res) => {
    res.resume();
    res.on('end', () => done(res.statusCode === 200 ? null : 'status ' + res.statusCode));
    res.on('error', (e) => done(e.message));
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', (e) => done(e.message));
}
parentPort.on('message', (m) => {
  if (m === 'stop') { stopped = true; agent.destroy(); process.exit(0); }
  // A probe still waiting counts as slow as it has been so far.
  const inFlight = pending ? measure(pending) : null;
  parentPort.postMessage({ ...stats, pendingMs: inFlight ? inFlight.ms : 0, pendingSlow: Boolean(inFlight && inFlight.slow) });
  if (m === 'take') stats = fresh();
});
probe();
`;

export interface ProbeStats {
  probes: number;
  /** Slowest answer, wall time. */
  maxMs: number;
  /** Most CPU time the gateway's main thread spent during one probe. */
  maxBusyMs: number;
  /** Largest resident set of the gateway seen (VmRSS), 0 off Linux. */
  maxRssBytes: number;
  /** Probes slower than the limit. */
  slow: number;
  failed: number;
  worst: string;
  /** How long the probe in flight has been waiting, and whether that already counts as slow. */
  pendingMs: number;
  pendingSlow: boolean;
}

export class HealthzProbe {
  readonly #worker: Worker;
  readonly limitMs: number;

  constructor(httpUrl: string, opts: { limitMs: number; strict: boolean; pid?: number; everyMs?: number }) {
    this.limitMs = opts.limitMs;
    this.#worker = new Worker(PROBE, {
      eval: true,
      workerData: {
        url: httpUrl,
        limitMs: opts.limitMs,
        strict: opts.strict,
        pid: opts.pid ?? null,
        everyMs: opts.everyMs ?? 50,
      },
    });
  }

  /** The figures since the last take(), and a fresh window. */
  take(): Promise<ProbeStats> {
    return new Promise((resolve) => {
      this.#worker.once('message', resolve);
      this.#worker.postMessage('take');
    });
  }

  async stop(): Promise<void> {
    this.#worker.postMessage('stop');
    await new Promise((r) => this.#worker.once('exit', r));
  }
}

/** Why a window of probes breaks "/healthz answers within the limit throughout", or null. */
export function healthzProblem(s: ProbeStats, limitMs: number): string | null {
  if (s.failed) return `/healthz failed ${s.failed} times (${s.worst})`;
  if (s.slow) return `/healthz slower than ${limitMs} ms ${s.slow} times (${s.worst})`;
  if (s.pendingSlow) return `/healthz has not answered for ${s.pendingMs.toFixed(0)} ms`;
  return null;
}
