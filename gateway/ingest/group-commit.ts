import type { Clock } from '../clock.ts';
import type { DiskGuard } from '../disk-guard.ts';
import { BackpressureError, DiskFullError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Outbox, QuarantineEntry } from '../outbox.ts';

export interface CommitWork {
  lines: string[];
  quarantined: QuarantineEntry[];
  /** QoS 1: the device waits for a PUBACK, so the reading may wait for outbox space. */
  acknowledged: boolean;
  done(err?: Error): void;
}

export interface GroupCommitStats {
  committed: number;
  dropped: number;
}

/**
 * Group commit in front of the outbox. Everything submitted within one event-loop turn is
 * written in one transaction and only then released, in arrival order: aedes handles all
 * packets of one TCP read concurrently, and PUBACKs must leave in the order the PUBLISHes came
 * [MQTT-4.6.0-2]. Past the outbox's disk bound, QoS 1 work is parked without a PUBACK until the
 * sink frees space, or refused after a while (the device keeps the reading and retries).
 */
export class GroupCommitter {
  readonly #outbox: Outbox;
  readonly #clock: Clock;
  readonly #maxBytes: number;
  readonly #parkTimeoutMs: number;
  readonly #onCommit: (stats: GroupCommitStats) => void;
  readonly #log: Logger | undefined;
  #pending: CommitWork[] = [];
  #parked: CommitWork[] = [];
  #scheduled = false;
  readonly #windowMs: number;
  /** When each parked item first parked (it may park again after a notifySpace that was not enough). */
  readonly #since = new WeakMap<CommitWork, number>();
  #parkTimer: unknown = null;
  readonly #disk: Pick<DiskGuard, 'fail' | 'ok'> | undefined;

  constructor(
    outbox: Outbox,
    opts: {
      clock: Clock;
      maxBytes: number;
      parkTimeoutMs?: number;
      /** How long the first reading of a commit waits for company; 0: the next event-loop turn. */
      windowMs?: number;
      onCommit?: (s: GroupCommitStats) => void;
      /** Told about every commit; a disk-full commit parks its QoS 1 work instead of failing it. */
      disk?: Pick<DiskGuard, 'fail' | 'ok'>;
      /** Where a callback's error goes: it is logged, never thrown out of a timer. */
      log?: Logger;
    },
  ) {
    this.#disk = opts.disk;
    this.#outbox = outbox;
    this.#clock = opts.clock;
    this.#maxBytes = opts.maxBytes;
    this.#parkTimeoutMs = opts.parkTimeoutMs ?? 30_000;
    this.#onCommit = opts.onCommit ?? (() => {});
    this.#windowMs = opts.windowMs ?? 0;
    this.#log = opts.log;
  }

  get full(): boolean {
    return this.#outbox.diskBytes >= this.#maxBytes;
  }

  /**
   * Every callback runs on its own: one that throws is logged and the others still run. These
   * run from timers and setImmediate, where a throw would end the process.
   */
  #release(work: CommitWork, err?: Error): void {
    try {
      work.done(err);
    } catch (thrown) {
      this.#log?.error({ err: thrown }, 'a commit callback threw');
    }
  }

  submit(work: CommitWork): void {
    this.#pending.push(work);
    if (!this.#scheduled) {
      this.#scheduled = true;
      // A real timer, not the injected clock: this batches disk syncs, it is not domain time.
      if (this.#windowMs > 0) setTimeout(() => this.flush(), this.#windowMs);
      else setImmediate(() => this.flush());
    }
  }

  /** The sink freed space: parked readings go first, in their order. */
  notifySpace(): void {
    if (this.#parked.length === 0 || this.full) return;
    this.#pending = [...this.#parked, ...this.#pending];
    this.#parked = [];
    this.flush();
  }

  flush(): void {
    this.#scheduled = false;
    const batch = this.#pending;
    this.#pending = [];
    if (batch.length === 0) return;
    const commit: CommitWork[] = [];
    let dropped = 0;
    let projected = this.#outbox.diskBytes;
    for (const work of batch) {
      const bytes =
        work.lines.reduce((n, l) => n + l.length, 0) + work.quarantined.reduce((n, q) => n + q.bytes, 0);
      // Once one acknowledged item waits, every later one waits behind it: PUBACKs keep their order.
      if (
        work.acknowledged &&
        (this.#parked.length > 0 || (bytes > 0 && projected + bytes > this.#maxBytes))
      ) {
        this.#park(work);
        continue;
      }
      if (bytes > 0 && projected + bytes > this.#maxBytes) {
        // QoS 0 is at most once by contract: with no room, the reading is counted and let go.
        dropped += work.lines.length;
        work.lines = [];
        work.quarantined = [];
      } else {
        projected += bytes;
      }
      commit.push(work);
    }
    const lines: string[] = [];
    const quarantined: QuarantineEntry[] = [];
    for (const w of commit) {
      for (const l of w.lines) lines.push(l);
      for (const q of w.quarantined) quarantined.push(q);
    }
    let error: Error | undefined;
    try {
      if (lines.length || quarantined.length) {
        this.#outbox.commit(lines, quarantined);
        this.#disk?.ok('outbox');
      }
    } catch (err) {
      error = err as Error;
      if (this.#disk?.fail('outbox', err)) {
        this.#diskFull(commit, dropped);
        return;
      }
    }
    try {
      this.#onCommit({ committed: error ? 0 : lines.length, dropped });
    } catch (thrown) {
      this.#log?.error({ err: thrown }, 'the commit hook threw');
    }
    for (const w of commit) this.#release(w, error);
  }

  /**
   * The commit failed for lack of disk space. QoS 1 work goes back to the head of the parked
   * queue, in its order, without a PUBACK: the retry (retry()) or the park timeout settles it.
   * An error to Aedes would close the connection (MQTT 3.1.1 has no negative PUBACK), and the
   * device would reconnect and resend into the same full disk. QoS 0 is let go and counted.
   */
  #diskFull(commit: CommitWork[], dropped: number): void {
    const acked = commit.filter((w) => w.acknowledged);
    for (const work of acked) if (!this.#since.has(work)) this.#since.set(work, this.#clock.now());
    this.#parked = [...acked, ...this.#parked];
    if (acked.length && this.#parkTimer === null)
      this.#parkTimer = this.#clock.setTimeout(() => this.#expireParked(), 1000);
    let lost = dropped;
    for (const work of commit) if (!work.acknowledged) lost += work.lines.length;
    this.#onCommit({ committed: 0, dropped: lost });
    for (const work of commit) if (!work.acknowledged) work.done();
  }

  /** After a disk-full commit: try the parked work again (or a probe write when none waits). */
  retry(): void {
    if (this.#parked.length === 0) {
      try {
        this.#outbox.probe();
        this.#disk?.ok('outbox');
      } catch (err) {
        if (!this.#disk?.fail('outbox', err)) throw err;
      }
      return;
    }
    this.#pending = [...this.#parked, ...this.#pending];
    this.#parked = [];
    this.flush();
  }

  #park(work: CommitWork): void {
    if (!this.#since.has(work)) this.#since.set(work, this.#clock.now());
    this.#parked.push(work);
    if (this.#parkTimer === null) this.#parkTimer = this.#clock.setTimeout(() => this.#expireParked(), 1000);
  }

  #expireParked(): void {
    this.#parkTimer = null;
    const now = this.#clock.now();
    const keep: CommitWork[] = [];
    for (const work of this.#parked) {
      if (now - this.#since.get(work)! >= this.#parkTimeoutMs)
        this.#release(work, this.full ? new BackpressureError(this.#maxBytes) : new DiskFullError('outbox'));
      else keep.push(work);
    }
    this.#parked = keep;
    if (keep.length) this.#parkTimer = this.#clock.setTimeout(() => this.#expireParked(), 1000);
  }

  /** On stop: commit what is pending; refuse what is parked (not acknowledged, so not lost). */
  close(): void {
    this.flush();
    for (const work of this.#parked) this.#release(work, new BackpressureError(this.#maxBytes));
    this.#parked = [];
    if (this.#parkTimer !== null) this.#clock.clearTimeout(this.#parkTimer);
  }
}
