import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LatencyHistogram } from './histogram.ts';
import {
  type CommandTiming,
  emptyPublishCounters,
  type FromWorker,
  type ProvisionedDevice,
  type PublishCounters,
  type Rate,
  type ToWorker,
  type WorkerMode,
} from './protocol.ts';

const WORKER_FILE = fileURLToPath(new URL('./worker.ts', import.meta.url));
const REPLY_TIMEOUT_MS = 10 * 60_000;

export interface PoolProgress {
  counters: PublishCounters;
  histogram: LatencyHistogram;
}

interface Worker {
  proc: ChildProcess;
  devices: ProvisionedDevice[];
  connected: number;
  last?: { counters: PublishCounters; histogram: number[] };
  waiting?: { type: FromWorker['type']; resolve(m: FromWorker): void; reject(e: Error): void };
}

/**
 * Load workers as child processes (one core each at most), the devices dealt among them in
 * turn; the pool speaks to them over IPC and adds up what they report.
 */
export class WorkerPool {
  readonly #workers: Worker[] = [];
  #connectedTotal = 0;
  onProgress?: (p: PoolProgress) => void;

  private constructor() {}

  static async start(opts: {
    workers: number;
    mode: WorkerMode;
    url: string;
    qos: 0 | 1;
    devices: readonly ProvisionedDevice[];
    connectsPerSecond: number;
    accelerate?: number;
    anonymous?: boolean;
  }): Promise<WorkerPool> {
    const pool = new WorkerPool();
    const n = Math.max(1, Math.min(opts.workers, opts.devices.length || 1));
    for (let w = 0; w < n; w++) {
      const proc = fork(WORKER_FILE, [], {
        execArgv: ['--import', 'tsx'],
        serialization: 'advanced',
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      const worker: Worker = { proc, devices: opts.devices.filter((_, i) => i % n === w), connected: 0 };
      proc.on('message', (m: FromWorker) => pool.#onMessage(worker, m));
      proc.on('exit', (code) => {
        worker.waiting?.reject(new Error(`load worker ${w} exited with code ${code}`));
        worker.waiting = undefined;
      });
      pool.#workers.push(worker);
    }
    try {
      await Promise.all(
        pool.#workers.map((w) =>
          pool.#request(
            w,
            {
              type: 'init',
              mode: opts.mode,
              url: opts.url,
              qos: opts.qos,
              devices: w.devices,
              connectsPerSecond: opts.connectsPerSecond / n,
              accelerate: opts.accelerate,
              anonymous: opts.anonymous,
            },
            'ready',
          ),
        ),
      );
    } catch (err) {
      await pool.stop();
      throw err;
    }
    return pool;
  }

  get size(): number {
    return this.#workers.length;
  }

  #onMessage(worker: Worker, m: FromWorker): void {
    if (m.type === 'progress') {
      worker.last = m;
      this.#emitProgress();
      return;
    }
    if (m.type === 'published') worker.last = m;
    const waiting = worker.waiting;
    if (m.type === 'error') {
      worker.waiting = undefined;
      waiting?.reject(new Error(`load worker: ${m.message}`));
      return;
    }
    if (waiting && waiting.type === m.type) {
      worker.waiting = undefined;
      waiting.resolve(m);
    }
  }

  #emitProgress(): void {
    if (!this.onProgress) return;
    this.onProgress(this.totals());
  }

  /** Sums of the latest counters and histograms of every worker. */
  totals(): PoolProgress {
    const counters = emptyPublishCounters();
    const histogram = new LatencyHistogram();
    for (const w of this.#workers) {
      if (!w.last) continue;
      for (const k of Object.keys(counters) as (keyof PublishCounters)[]) counters[k] += w.last.counters[k];
      histogram.merge(w.last.histogram);
    }
    return { counters, histogram };
  }

  #request<T extends FromWorker['type']>(
    worker: Worker,
    msg: ToWorker,
    reply: T,
  ): Promise<Extract<FromWorker, { type: T }>> {
    return new Promise((resolve, reject) => {
      if (worker.proc.exitCode !== null) return reject(new Error('load worker is gone'));
      const timer = setTimeout(() => reject(new Error(`load worker: no ${reply} in time`)), REPLY_TIMEOUT_MS);
      worker.waiting = {
        type: reply,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m as Extract<FromWorker, { type: T }>);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      worker.proc.send(msg);
    });
  }

  /** Connects devices until `total` of them (in the order given) are connected or failed. */
  async connect(
    total = Number.MAX_SAFE_INTEGER,
  ): Promise<{ connected: number; failed: number; errors: string[] }> {
    const n = this.#workers.length;
    const target = Math.min(
      total,
      this.#workers.reduce((s, w) => s + w.devices.length, 0),
    );
    const results = await Promise.all(
      this.#workers.map((w, i) => {
        // Devices were dealt in turn: of the first `target`, worker i holds ceil((target - i) / n).
        const share = Math.max(0, Math.ceil((target - i) / n));
        const count = share - w.connected;
        w.connected = share;
        return this.#request(w, { type: 'connect', count: Math.max(0, count) }, 'connected');
      }),
    );
    this.#connectedTotal = target;
    return {
      connected: results.reduce((s, r) => s + r.connected, 0),
      failed: results.reduce((s, r) => s + r.failed, 0),
      errors: results.flatMap((r) => r.errors),
    };
  }

  get requested(): number {
    return this.#connectedTotal;
  }

  /** Publishes on every worker at once; resolves with the summed counters and latencies. */
  async publish(opts: {
    durationMs: number;
    rate: Rate;
    inflight: number;
    drainMs: number;
  }): Promise<PoolProgress> {
    const n = this.#workers.length;
    const startAt = Date.now() + 250;
    await Promise.all(
      this.#workers.map((w) =>
        this.#request(
          w,
          {
            type: 'publish',
            startAt,
            durationMs: opts.durationMs,
            rate: opts.rate === 'max' ? 'max' : opts.rate / n,
            inflight: opts.inflight,
            drainMs: opts.drainMs,
          },
          'published',
        ),
      ),
    );
    return this.totals();
  }

  async timings(since: number): Promise<CommandTiming[]> {
    const all = await Promise.all(
      this.#workers.map((w) => this.#request(w, { type: 'timings', since }, 'timings')),
    );
    return all.flatMap((m) => m.timings);
  }

  /** Disconnects every device and ends the workers (forcibly after a grace period). */
  async stop(): Promise<void> {
    await Promise.all(
      this.#workers.map(async (w) => {
        if (w.proc.exitCode !== null || w.proc.signalCode !== null) return;
        const exited = new Promise<void>((resolve) => w.proc.once('exit', () => resolve()));
        try {
          w.proc.send({ type: 'stop' } satisfies ToWorker);
        } catch {}
        const timer = setTimeout(() => w.proc.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }
}
