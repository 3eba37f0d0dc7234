import type { Clock } from './clock.ts';

interface Bucket {
  tokens: number;
  at: number;
  /** Publishes waiting for a token, oldest first. */
  waiting: Array<() => void>;
  timer?: unknown;
}

/**
 * A token bucket per device on its publishes (issue 8, fairness): past its burst a device gets
 * `perSecond` publishes, and the next one waits.
 *
 * Waiting is what slows the device down, at no cost to anyone else: Aedes reads a client's next
 * chunk from the socket only once every packet of the previous chunk is done (lib/client.js,
 * `nextBatch`), so a publish whose authorizePublish has not answered yet stops that socket being
 * read. The device's TCP window fills and its writes block; nothing is dropped, and what waits is
 * at most one socket read of packets.
 */
export class PublishRateLimiter {
  readonly #clock: Clock;
  readonly #perSecond: number;
  readonly #burst: number;
  readonly #onLimited: () => void;
  readonly #onError: (err: unknown) => void;
  readonly #buckets = new Map<string, Bucket>();
  /** Publishes let through after waiting: authorizePublish sees them a second time. */
  readonly #released = new WeakSet<object>();

  constructor(opts: {
    clock: Clock;
    perSecond: number;
    burst: number;
    onLimited?: () => void;
    onError?: (err: unknown) => void;
  }) {
    this.#clock = opts.clock;
    this.#perSecond = opts.perSecond;
    this.#burst = opts.burst;
    this.#onLimited = opts.onLimited ?? (() => {});
    this.#onError = opts.onError ?? (() => {});
  }

  /**
   * False when the device may publish now (a token is taken). True when the publish must wait:
   * `resume` is called once a token is there for it, and then hold() answers false for `packet`.
   */
  hold(deviceId: string | undefined, packet: object, resume: () => void): boolean {
    if (this.#perSecond <= 0 || deviceId === undefined) return false;
    if (this.#released.has(packet)) {
      this.#released.delete(packet);
      return false;
    }
    const b = this.#bucket(deviceId);
    if (b.waiting.length === 0 && b.tokens >= 1) {
      b.tokens -= 1;
      return false;
    }
    this.#onLimited();
    b.waiting.push(() => {
      this.#released.add(packet);
      resume();
    });
    this.#schedule(deviceId, b);
    return true;
  }

  #bucket(deviceId: string): Bucket {
    const now = this.#clock.now();
    let b = this.#buckets.get(deviceId);
    if (!b) {
      b = { tokens: this.#burst, at: now, waiting: [] };
      this.#buckets.set(deviceId, b);
    }
    b.tokens = Math.min(this.#burst, b.tokens + ((now - b.at) / 1000) * this.#perSecond);
    b.at = now;
    return b;
  }

  #schedule(deviceId: string, b: Bucket): void {
    if (b.timer !== undefined) return;
    const ms = Math.max(1, Math.ceil(((1 - b.tokens) / this.#perSecond) * 1000));
    b.timer = this.#clock.setTimeout(() => {
      b.timer = undefined;
      this.#release(deviceId);
    }, ms);
  }

  #release(deviceId: string): void {
    const b = this.#bucket(deviceId);
    while (b.waiting.length > 0 && b.tokens >= 1) {
      b.tokens -= 1;
      this.#resume(b.waiting.shift()!);
    }
    if (b.waiting.length > 0) this.#schedule(deviceId, b);
    else if (b.tokens >= this.#burst) this.#buckets.delete(deviceId);
  }

  /** A resumed publish runs in this limiter's timer: its errors stay here. */
  #resume(resume: () => void): void {
    try {
      resume();
    } catch (err) {
      this.#onError(err);
    }
  }

  /** On the broker's close: its clients are gone, so what waits is dropped, not let through. */
  close(): void {
    for (const b of this.#buckets.values()) if (b.timer !== undefined) this.#clock.clearTimeout(b.timer);
    this.#buckets.clear();
  }
}
