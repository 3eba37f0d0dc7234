import type { Counter } from 'prom-client';
import type { Db } from '../device-registry/db.ts';
import type { Clock } from './clock.ts';
import type { Logger } from './logger.ts';

/**
 * Errors that mean "no space left", not "broken": SQLite's SQLITE_FULL (extended codes such as
 * SQLITE_FULL_* included), the kernel's ENOSPC and EDQUOT (a quota is a full disk to us).
 */
export function isDiskFull(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return (
    typeof code === 'string' && (code.startsWith('SQLITE_FULL') || code === 'ENOSPC' || code === 'EDQUOT')
  );
}

/**
 * A write that needs a page of free space and changes nothing: SQLite rewrites the database
 * header to set user_version (unused by our migrations, which keep their own table), so a commit
 * lands in the WAL. It fails with SQLITE_FULL exactly when a real commit would.
 */
export function probeWrite(db: Pick<Db, 'pragma'>): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  db.pragma(`user_version = ${version}`);
}

/**
 * Where the gateway writes to disk (registry, outbox, archive) reports each failed write here.
 * A write that failed for lack of space marks its place as faulted: the gateway is then not ready
 * (`/readyz` names it), and every second each faulted place is retried until its write goes
 * through again. Nothing throws: a full disk is a state to wait out, not a reason to exit.
 */
export class DiskGuard {
  readonly #faults = new Map<string, string>();
  readonly #retries = new Map<string, () => void>();
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #counter: Counter<string>;
  readonly #retryMs: number;
  #timer: unknown = null;
  #closed = false;

  constructor(opts: { clock: Clock; log: Logger; counter: Counter<string>; retryMs?: number }) {
    this.#clock = opts.clock;
    this.#log = opts.log;
    this.#counter = opts.counter;
    this.#retryMs = opts.retryMs ?? 1000;
  }

  /** How a faulted place tries again (flush what waits, or a probe write). */
  onRetry(place: string, retry: () => void): void {
    this.#retries.set(place, retry);
  }

  /** Not-ready reasons, e.g. `disk full: registry: database or disk is full`. */
  get reasons(): string[] {
    return [...this.#faults].map(([place, message]) => `disk full: ${place}: ${message}`);
  }

  get full(): boolean {
    return this.#faults.size > 0;
  }

  faulted(place: string): boolean {
    return this.#faults.has(place);
  }

  /** A write failed: true when for lack of space (then it is marked and retried), else false. */
  fail(place: string, err: unknown): boolean {
    if (!isDiskFull(err)) return false;
    if (!this.#faults.has(place)) {
      this.#counter.inc({ place });
      this.#log.error(
        { place, code: (err as { code: string }).code, err: (err as Error).message },
        'disk full: writes wait, QoS 1 readings get no PUBACK, not ready until space returns',
      );
    }
    this.#faults.set(place, (err as Error).message);
    this.#schedule();
    return true;
  }

  /** A write went through. */
  ok(place: string): void {
    if (!this.#faults.delete(place)) return;
    this.#log.info({ place }, 'disk space is back');
  }

  /** Runs a write of `place`: a disk-full failure is marked and swallowed, any other rethrown. */
  run<T>(place: string, write: () => T): T | undefined {
    try {
      const result = write();
      this.ok(place);
      return result;
    } catch (err) {
      if (this.fail(place, err)) return undefined;
      throw err;
    }
  }

  close(): void {
    this.#closed = true;
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
  }

  #schedule(): void {
    if (this.#timer !== null || this.#closed) return;
    this.#timer = this.#clock.setTimeout(() => this.#retry(), this.#retryMs);
  }

  #retry(): void {
    this.#timer = null;
    for (const place of [...this.#faults.keys()]) {
      try {
        this.#retries.get(place)?.();
      } catch (err) {
        // A retry reports its own outcome; anything else is logged and retried next time.
        if (!this.fail(place, err)) this.#log.error({ place, err }, 'retry after disk full failed');
      }
    }
    if (this.#faults.size > 0) this.#schedule();
  }
}
