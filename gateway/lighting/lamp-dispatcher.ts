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
 * at once. A newer level for a lamp replaces a queued older one here already, as the command
 * service does for queued state commands.
 */
export class LampDispatcher {
  readonly #queue = new Map<string, LampCommand>();
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #submit: (deviceId: string, cmd: LampCommand) => void;
  readonly #perTick: number;
  #timer: unknown = null;
  submitted = 0;
  refused = 0;

  constructor(opts: {
    clock: Clock;
    log: Logger;
    ratePerSecond: number;
    submit: (deviceId: string, cmd: LampCommand) => void;
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
      this.#queue.delete(id); // re-inserted at the end: its turn comes after the older ones
      this.#queue.set(id, { level, actor });
    }
    if (this.#timer === null && this.#queue.size > 0) this.#drain();
  }

  #drain(): void {
    this.#timer = null;
    let n = 0;
    for (const [id, cmd] of this.#queue) {
      if (n++ >= this.#perTick) break;
      this.#queue.delete(id);
      try {
        this.#submit(id, cmd);
        this.submitted++;
      } catch (err) {
        this.refused++;
        this.#log.warn({ deviceId: id, err: (err as Error).message }, 'lighting command refused');
      }
    }
    if (this.#queue.size > 0) this.#timer = this.#clock.setTimeout(() => this.#drain(), TICK_MS);
  }

  stop(): void {
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
  }
}
