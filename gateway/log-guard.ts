import type { Clock } from './clock.ts';
import type { Logger } from './logger.ts';

/** Characters of a client-chosen string (client id, topic) kept in a log line. */
export const CLIP_CHARS = 64;

/**
 * A client-chosen string as it may be logged: at most CLIP_CHARS characters, and its real size
 * when longer. A 60 KB client id is then a 100-byte field, not 60 KB per refused CONNECT.
 */
export function clip(value: string | null | undefined): string | undefined {
  if (value == null) return undefined;
  if (value.length <= CLIP_CHARS) return value;
  return `${value.slice(0, CLIP_CHARS)}…(${Buffer.byteLength(value)} bytes)`;
}

type Level = 'debug' | 'info' | 'warn' | 'error';

interface Bucket {
  tokens: number;
  at: number;
  suppressed: number;
  level: Level;
  timer?: unknown;
}

/**
 * Log lines about what clients do wrong, rate limited per kind of line (a token bucket each):
 * a flood of refused clients writes `burst` lines, then `perSecond`, and one
 * "suppressed N similar lines" line for the rest, instead of filling the disk.
 */
export class LogGuard {
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #perSecond: number;
  readonly #burst: number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(log: Logger, clock: Clock, opts: { perSecond?: number; burst?: number } = {}) {
    this.#log = log;
    this.#clock = clock;
    this.#perSecond = opts.perSecond ?? 2;
    this.#burst = opts.burst ?? 20;
  }

  /** `kind` names the line (a constant in the code, never client data); `fields` are clipped by the caller. */
  write(level: Level, kind: string, fields: Record<string, unknown>, msg: string): void {
    if (!this.#log.isLevelEnabled(level)) return;
    const b = this.#take(kind, level);
    if (!b) return;
    this.#log[level]({ ...fields, kind }, msg);
  }

  #take(kind: string, level: Level): Bucket | undefined {
    const now = this.#clock.now();
    let b = this.#buckets.get(kind);
    if (!b) {
      b = { tokens: this.#burst, at: now, suppressed: 0, level };
      this.#buckets.set(kind, b);
    }
    b.tokens = Math.min(this.#burst, b.tokens + ((now - b.at) / 1000) * this.#perSecond);
    b.at = now;
    if (b.tokens >= 1 && b.suppressed === 0) {
      b.tokens -= 1;
      return b;
    }
    b.suppressed++;
    b.level = level;
    // The count is written once a token is back, even if no further line of the kind comes.
    b.timer ??= this.#clock.setTimeout(
      () => this.#flush(kind),
      Math.ceil(((1 - Math.min(b.tokens, 1)) / this.#perSecond) * 1000),
    );
    return undefined;
  }

  #flush(kind: string): void {
    const b = this.#buckets.get(kind);
    if (!b) return;
    b.timer = undefined;
    const now = this.#clock.now();
    b.tokens = Math.min(this.#burst, b.tokens + ((now - b.at) / 1000) * this.#perSecond) - 1;
    b.at = now;
    const suppressed = b.suppressed;
    b.suppressed = 0;
    if (suppressed) this.#log[b.level]({ kind, suppressed }, `suppressed ${suppressed} similar lines`);
  }

  /** Writes the pending counts (on stop). */
  close(): void {
    for (const [kind, b] of this.#buckets) {
      if (b.timer !== undefined) this.#clock.clearTimeout(b.timer);
      this.#flush(kind);
    }
  }
}
