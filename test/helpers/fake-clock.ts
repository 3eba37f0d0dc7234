import type { Clock } from '../../gateway/clock.ts';

/** A clock the test moves: timers fire only when advance() passes their time. */
export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  readonly #timers = new Map<number, { at: number; fn: () => void }>();

  constructor(start = Date.now()) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.#seq;
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  /** Moves time on, firing due timers in time order (timers they set fire too if due). */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.#timers)
        if (entry[1].at <= target && (!next || entry[1].at < next[1].at)) next = entry;
      if (!next) break;
      this.#timers.delete(next[0]);
      this.#now = Math.max(this.#now, next[1].at);
      next[1].fn();
    }
    this.#now = target;
  }

  /**
   * Sets the time forward as a wall-clock jump does (an NTP step, a VM resumed): timers due
   * meanwhile fire once, all at the new time, not at the times in between.
   */
  jump(ms: number): void {
    const target = this.#now + ms;
    for (const t of this.#timers.values()) if (t.at < target) t.at = target;
    this.advance(ms);
  }
}
