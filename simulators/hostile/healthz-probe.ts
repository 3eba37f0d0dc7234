import { Worker } from 'node:worker_threads';

/**
 * GET /healthz every `everyMs` from a worker thread, so that the hostile clients' own work in the
 * main thread (building megabyte payloads) does not count as the gateway's latency.
 */
const PROBE = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
let stats = { probes: 0, maxMs: 0, slow: 0, failed: 0, worst: '' };
let startedAt = null;
let stopped = false;
function record(ms, error) {
  stats.probes++;
  if (ms > stats.maxMs) stats.maxMs = ms;
  if (error) { stats.failed++; stats.worst = error + ' after ' + ms.toFixed(0) + ' ms'; }
  else if (ms > workerData.limitMs) { stats.slow++; stats.worst = ms.toFixed(0) + ' ms'; }
}
function probe() {
  if (stopped) return;
  const t0 = performance.now();
  startedAt = t0;
  let finished = false;
  const done = (error) => {
    if (finished) return;
    finished = true;
    startedAt = null;
    record(performance.now() - t0, error);
    setTimeout(probe, workerData.everyMs);
  };
  const req = http.get(workerData.url + '/healthz', { agent, timeout: 5000 }, (res) => {
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
  const pendingMs = startedAt === null ? 0 : performance.now() - startedAt;
  parentPort.postMessage({ ...stats, pendingMs });
  if (m === 'take') stats = { probes: 0, maxMs: 0, slow: 0, failed: 0, worst: '' };
});
probe();
`;

export interface ProbeStats {
  probes: number;
  maxMs: number;
  /** Probes slower than the limit. */
  slow: number;
  failed: number;
  worst: string;
  /** How long the probe in flight has been waiting. */
  pendingMs: number;
}

export class HealthzProbe {
  readonly #worker: Worker;
  readonly limitMs: number;

  constructor(httpUrl: string, opts: { limitMs: number; everyMs?: number }) {
    this.limitMs = opts.limitMs;
    this.#worker = new Worker(PROBE, {
      eval: true,
      workerData: { url: httpUrl, limitMs: opts.limitMs, everyMs: opts.everyMs ?? 50 },
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
  if (s.slow) return `/healthz slower than ${limitMs} ms ${s.slow} times (worst ${s.maxMs.toFixed(0)} ms)`;
  if (s.pendingMs > limitMs) return `/healthz has not answered for ${s.pendingMs.toFixed(0)} ms`;
  return null;
}
