import type { Command, CommandStore } from '../../device-registry/commands.ts';
import type { GatewayContext } from '../context.ts';
import type { CommandCache } from './command-cache.ts';

/** Overdue commands one sweep moves; the next sweep takes the rest. */
const SWEEP_BATCH = 500;
/** Queued this long ago and still queued: its `commands.queued` message may have been lost. */
const QUEUED_GRACE_MS = 5000;
/** Devices with waiting commands looked at per sweep. */
const WAITING_BATCH = 5000;

/**
 * What the other nodes say about commands (issue 11): new ones were queued (the node holding the
 * device's connection sends them), one moved (live views and caches follow), a desired state
 * changed (the cache re-reads it). Each message only says what to re-read.
 */
export function followOtherNodes(
  ctx: Pick<GatewayContext, 'cluster' | 'log'>,
  deps: {
    store: CommandStore;
    cache: CommandCache;
    moved(c: Command): void;
    /** This node holds the device's connection (MQTT, or an adapter here polling it). */
    holds(deviceId: string): boolean;
    dispatch(deviceId: string): Promise<void>;
  },
): void {
  const failed = (what: string) => (err: unknown) =>
    ctx.log.warn({ err }, `${what} from another node not applied`);
  ctx.cluster.subscribe('commands.queued', ({ deviceId }) => {
    void deps.cache.refreshDevice(deviceId).catch(failed('commands.queued'));
    if (deps.holds(deviceId)) void deps.dispatch(deviceId);
  });
  // Shown once per status: messages of quick moves (sent, delivered, succeeded) may each read the
  // command as it ends up, and only the read that matches its message is this node's news.
  ctx.cluster.subscribe('command.status', ({ id, status }) => {
    void deps.store
      .get(id)
      .then((c) => c && c.status === status && deps.moved(c))
      .catch(failed('command.status'));
  });
  ctx.cluster.subscribe('desired.changed', ({ deviceId }) => {
    void deps.cache.refreshDesired(deviceId).catch(failed('desired.changed'));
  });
}

interface SweepDeps {
  store: CommandStore;
  everyMs: number;
  /** This node holds the device's connection (MQTT, or an adapter here polling it). */
  holds(deviceId: string): boolean;
  dispatch(deviceId: string): Promise<void>;
  expire(c: Command): Promise<Command | null>;
  timeOut(c: Command): Promise<Command | null>;
}

/**
 * Every node of a cluster looks for open commands past the deadline stored in their row:
 * `queued` past their TTL become `expired`, `sent` and `delivered` past their reply deadline
 * `timed_out`. The node that sent a command may have died with its timer; the moves are
 * conditional, so when several nodes sweep each command moves once.
 */
export class DeadlineSweep {
  readonly #ctx: Pick<GatewayContext, 'clock' | 'log'>;
  readonly #deps: SweepDeps;
  #timer: unknown = null;
  #stopped = false;

  constructor(ctx: Pick<GatewayContext, 'clock' | 'log'>, deps: SweepDeps) {
    this.#ctx = ctx;
    this.#deps = deps;
  }

  start(): void {
    this.#schedule(0);
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = this.#ctx.clock.setTimeout(() => {
      this.sweep()
        .catch((err) => this.#ctx.log.error({ err }, 'command sweep failed'))
        .finally(() => this.#schedule(this.#deps.everyMs));
    }, ms);
  }

  /**
   * Moves what is overdue now, and sends what waits for a device held here (the bus
   * delivers at most once: a lost `commands.queued` is caught up here). How many this node moved.
   */
  async sweep(): Promise<number> {
    const { store, expire, timeOut, holds, dispatch } = this.#deps;
    const now = this.#ctx.clock.now();
    let moved = 0;
    for (const c of await store.overdue(now, SWEEP_BATCH)) {
      const done = c.status === 'queued' ? await expire(c) : await timeOut(c);
      if (done) moved++;
    }
    for (const deviceId of await store.waitingDevices(now - QUEUED_GRACE_MS, WAITING_BATCH))
      if (holds(deviceId)) await dispatch(deviceId);
    return moved;
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== null) this.#ctx.clock.clearTimeout(this.#timer);
  }
}
