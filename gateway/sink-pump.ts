import type { Clock } from './clock.ts';
import type { Logger } from './logger.ts';
import type { Outbox, OutboxBatch } from './outbox.ts';
import type { Sink } from './sinks/sink.ts';

export interface PumpStats {
  sinkUp: boolean;
  /** The error of the failing sink now; null once a write succeeds. */
  lastError: string | null;
  /** The last failure the sink recovered from: when it began and when a write succeeded again. */
  pastError: { message: string; at: number; recoveredAt: number } | null;
}

const SENT = { written: 'written', setAside: 'setAside', failed: 'failed' } as const;
type SendOutcome = keyof typeof SENT;

/**
 * Moves readings from the outbox to the sink: a batch at a time, deleted from the outbox only
 * after the sink acknowledged it; on failure the same batch again, with exponential backoff.
 * Counts go to the callers' counters (onWritten, onFailed); the pump keeps only the sink's state.
 */
export class SinkPump {
  readonly stats: PumpStats = { sinkUp: true, lastError: null, pastError: null };
  #failingSince = 0;
  readonly #outbox: Outbox;
  readonly #sink: Sink;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #batchLines: number;
  readonly #idleMs: number;
  readonly #maxBackoffMs: number;
  readonly #onWritten: (n: number) => void;
  readonly #onFailed: (err: unknown, where: 'sink' | 'outbox') => void;
  #running = false;
  #timer: unknown = null;
  #wake: (() => void) | null = null;
  #poked = false;
  #loop: Promise<void> | null = null;

  constructor(
    outbox: Outbox,
    sink: Sink,
    opts: {
      clock: Clock;
      log: Logger;
      batchLines: number;
      idleMs?: number;
      maxBackoffMs?: number;
      onWritten?: (n: number) => void;
      /** A write that failed: to the sink, or the outbox's delete after it (a full disk). */
      onFailed?: (err: unknown, where: 'sink' | 'outbox') => void;
    },
  ) {
    this.#outbox = outbox;
    this.#sink = sink;
    this.#clock = opts.clock;
    this.#log = opts.log;
    this.#batchLines = opts.batchLines;
    this.#idleMs = opts.idleMs ?? 200;
    this.#maxBackoffMs = opts.maxBackoffMs ?? 10_000;
    this.#onWritten = opts.onWritten ?? (() => {});
    this.#onFailed = opts.onFailed ?? (() => {});
  }

  start(): void {
    this.#running = true;
    this.#loop = this.#run();
  }

  /** New readings were committed: no need to wait for the idle poll. */
  poke(): void {
    // While a write is in flight nobody sleeps: the next sleep is skipped instead.
    if (this.#wake) this.#wake();
    else this.#poked = true;
  }

  /**
   * Stops the loop; with `drainMs`, first tries to send what is left for that long (a graceful
   * stop leaves an empty outbox when the database is up; what remains is sent on the next start).
   */
  async stop(drainMs = 0): Promise<void> {
    this.#running = false;
    this.#wake?.();
    await this.#loop;
    const deadline = this.#clock.now() + drainMs;
    while (this.#clock.now() < deadline) {
      const batch = this.#outbox.peek(this.#batchLines);
      if (!batch || (await this.#send(batch)) === 'failed') return;
    }
  }

  #sleep(ms: number): Promise<void> {
    // A poke or a stop that came during a write is not lost.
    if (this.#poked || !this.#running) {
      this.#poked = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.#wake = () => {
        this.#clock.clearTimeout(this.#timer);
        this.#wake = null;
        resolve();
      };
      this.#timer = this.#clock.setTimeout(() => this.#wake?.(), ms);
    });
  }

  /** One batch to the sink; it leaves the outbox only once written (or set aside as malformed). */
  async #send(batch: OutboxBatch): Promise<SendOutcome> {
    try {
      await this.#sink.write(batch);
    } catch (err) {
      if (isMalformed(err) && (await this.#setAside(batch, err as Error))) return 'setAside';
      this.#onFailed(err, 'sink');
      this.stats.lastError = (err as Error).message;
      if (this.stats.sinkUp) {
        this.#failingSince = this.#clock.now();
        this.#log.warn(
          { sink: this.#sink.name, err: this.stats.lastError },
          'sink write failed; readings wait in the outbox',
        );
      }
      this.stats.sinkUp = false;
      return 'failed';
    }
    try {
      this.#outbox.acknowledge(batch);
    } catch (err) {
      // Written but still in the outbox (its delete found the disk full): the batch is sent again
      // later, which stores nothing twice (the database keeps one point per series and time).
      this.#onFailed(err, 'outbox');
      return 'failed';
    }
    if (!this.stats.sinkUp) {
      this.#log.info({ sink: this.#sink.name }, 'sink is back; draining the outbox');
      this.stats.pastError = {
        message: this.stats.lastError ?? '',
        at: this.#failingSince,
        recoveredAt: this.#clock.now(),
      };
      this.stats.lastError = null;
    }
    this.stats.sinkUp = true;
    this.#onWritten(batch.count);
    return 'written';
  }

  /**
   * A batch the database refuses as malformed: find the offending lines by halving (the rest is
   * written; a point written twice is the same point), keep those as dead letters. False when
   * the database went away meanwhile: the batch stays and is retried.
   */
  async #setAside(batch: OutboxBatch, err: Error): Promise<boolean> {
    const rejected: Array<{ line: string; reason: string }> = [];
    const bisect = async (lines: string[], error: Error): Promise<void> => {
      if (lines.length === 1) {
        rejected.push({ line: lines[0], reason: error.message });
        return;
      }
      const mid = Math.ceil(lines.length / 2);
      for (const half of [lines.slice(0, mid), lines.slice(mid)]) {
        try {
          await this.#sink.write({ text: half.join('\n'), count: half.length });
        } catch (e) {
          if (!isMalformed(e)) throw e;
          await bisect(half, e as Error);
        }
      }
    };
    try {
      await bisect(batch.text.split('\n'), err);
    } catch {
      return false;
    }
    this.#outbox.deadLetter(batch, rejected, this.#clock.now());
    this.#log.error(
      { sink: this.#sink.name, lines: rejected.length, reason: rejected[0]?.reason },
      'database refused lines; kept as dead letters',
    );
    this.#onWritten(batch.count - rejected.length);
    return true;
  }

  async #run(): Promise<void> {
    let backoff = 250;
    while (this.#running) {
      const batch = this.#outbox.peek(this.#batchLines);
      if (!batch) {
        await this.#sleep(this.#idleMs);
        continue;
      }
      if ((await this.#send(batch)) === 'failed') {
        await this.#sleep(backoff);
        backoff = Math.min(backoff * 2, this.#maxBackoffMs);
        continue;
      }
      backoff = 250;
      // A partial batch means the outbox is drained: let the next readings gather a moment.
      if (batch.count < this.#batchLines) await this.#sleep(Math.min(this.#idleMs, 50));
    }
  }
}

/** 400 (unparsable), 413 (too large), 422 (unprocessable): retrying the same lines cannot help. */
function isMalformed(err: unknown): boolean {
  const status = (err as { statusCode?: number }).statusCode;
  return status === 400 || status === 413 || status === 422;
}
