import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';

export interface LampCommand {
  level: number;
  actor: string;
}

const TICK_MS = 50;

/**
 * Lighting levels on their way to the command service, at a bounded rate: a city-wide step is
 * spread over `count / ratePerSecond` seconds so 300,000 lamps (and the broker) do not all hear
 * at once. A newer level for a lamp replaces a queued older one here already (keeping its place
 * in the queue), as the command service does for queued state commands.
 */
export class LampDispatcher {
  /** Levels waiting, by lamp; `#order` holds the lamps in turn (a Map drained from its front
   * is walked over its deleted entries again on every pass: quadratic for 300,000 lamps). */
  readonly #queue = new Map<string, LampCommand>();
  #order: string[] = [];
  #next = 0;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #submit: (deviceId: string, cmd: LampCommand) => unknown;
  readonly #perTick: number;
  #timer: unknown = null;
  submitted = 0;
  refused = 0;

  constructor(opts: {
    clock: Clock;
    log: Logger;
    ratePerSecond: number;
    submit: (deviceId: string, cmd: LampCommand) => unknown;
  }) {
    this.#clock = opts.clock;
    this.#log = opts.log;
    this.#submit = opts.submit;
    this.#perTick = Math.max(1, Math.floor((opts.ratePerSecond * TICK_MS) / 1000));
  }

  get pending(): number {
    return this.#queue.size;
  }

  /** Queues levels; the first tick's share goes at once. */
  enqueue(levels: ReadonlyMap<string, number>, actor: string): void {
    for (const [id, level] of levels) {
      if (!this.#queue.has(id)) this.#order.push(id);
      this.#queue.set(id, { level, actor });
    }
    if (this.#timer === null && this.#queue.size > 0) this.#drain();
  }

  #drain(): void {
    this.#timer = null;
    for (let n = 0; n < this.#perTick && this.#next < this.#order.length; n++) {
      const id = this.#order[this.#next++];
      const cmd = this.#queue.get(id)!;
      this.#queue.delete(id);
      const refused = (err: Error) => {
        this.submitted--;
        this.refused++;
        this.#log.warn({ deviceId: id, err: err.message }, 'lighting command refused');
      };
      try {
        this.submitted++;
        // The command service is async (its store may be PostgreSQL): a refusal may come later.
        const done = this.#submit(id, cmd);
        if (done instanceof Promise) done.catch(refused);
      } catch (err) {
        refused(err as Error);
      }
    }
    if (this.#next === this.#order.length) {
      this.#order = [];
      this.#next = 0;
    }
    if (this.#queue.size > 0) this.#timer = this.#clock.setTimeout(() => this.#drain(), TICK_MS);
  }

  stop(): void {
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
  }
}
