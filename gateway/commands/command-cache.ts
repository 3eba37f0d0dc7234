import {
  type Command,
  type CommandStore,
  type DesiredEntry,
  FINAL_STATUSES,
} from '../../device-registry/commands.ts';
import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';

/** Recent commands kept per device: what the alarm rules look back on (gateway.ts asks for 50). */
export const RECENT_PER_DEVICE = 50;
/** Devices whose recent commands are kept; the oldest filled entry goes first past it. */
const MAX_DEVICES = 50_000;
/**
 * A list read from a shared store this long ago is read again in the background on its next use:
 * a `command.status` message lost on the bus leaves it stale for at most this long.
 */
const STALE_MS = 30_000;

/**
 * What the alarm engine asks per reading, synchronously and without a database round-trip
 * (issue 11, "the hot path stays in memory"): each device's desired state, all loaded at start,
 * and its recent commands, filled on first use. This node's writes update it at once; other
 * nodes' writes reach it through `desired.changed` and `command.status` messages, which make it
 * re-read the store.
 */
export class CommandCache {
  readonly #store: CommandStore;
  readonly #log: Logger;
  readonly #clock: Clock;
  /** When each kept list was read from the store. */
  readonly #readAt = new Map<string, number>();
  #desired = new Map<string, DesiredEntry[]>();
  /** Each device's merged desired state, made once per change: the alarm rules read it per reading. */
  readonly #views = new Map<string, Readonly<Record<string, unknown>>>();
  /** Newest first. A device absent here has not been read yet. */
  readonly #recent = new Map<string, Command[]>();
  /** Bumped by every write to a device's entries: a read that overlapped one is read again. */
  readonly #writes = new Map<string, number>();
  readonly #loading = new Set<string>();

  constructor(store: CommandStore, log: Logger, clock: Clock) {
    this.#store = store;
    this.#log = log;
    this.#clock = clock;
  }

  async load(): Promise<void> {
    this.#desired = await this.#store.allDesired();
    this.#views.clear();
  }

  #touch(deviceId: string): number {
    const n = (this.#writes.get(deviceId) ?? 0) + 1;
    this.#writes.set(deviceId, n);
    return n;
  }

  desired(deviceId: string): readonly DesiredEntry[] {
    return this.#desired.get(deviceId) ?? [];
  }

  /**
   * The device's desired state as one object, the newest write of each field winning, with the
   * summed version; null when nothing is desired.
   */
  view(deviceId: string): Readonly<Record<string, unknown>> | null {
    const made = this.#views.get(deviceId);
    if (made) return made;
    const entries = this.#desired.get(deviceId);
    if (!entries?.length) return null;
    const state = Object.assign(
      {},
      ...[...entries].sort((a, b) => a.updatedAt - b.updatedAt).map((e) => e.state),
    );
    const view = Object.freeze({ ...state, version: entries.reduce((n, e) => n + e.version, 0) });
    this.#views.set(deviceId, view);
    return view;
  }

  /** The device's recent commands, newest first; on a miss, what a synchronous store can read now. */
  recent(deviceId: string): readonly Command[] {
    const list = this.#recent.get(deviceId);
    const readNow = this.#store.readNow;
    if (list) {
      // This process is the only writer of a synchronous store: its list is never stale.
      if (!readNow && this.#clock.now() - (this.#readAt.get(deviceId) ?? 0) > STALE_MS)
        void this.warm(deviceId);
      return list;
    }
    if (readNow) {
      const read = readNow.forDevice(deviceId, RECENT_PER_DEVICE);
      this.#setRecent(deviceId, read);
      return read;
    }
    void this.warm(deviceId);
    return [];
  }

  #setRecent(deviceId: string, list: Command[]): void {
    if (!this.#recent.has(deviceId) && this.#recent.size >= MAX_DEVICES) {
      const oldest = this.#recent.keys().next().value;
      if (oldest !== undefined) {
        this.#recent.delete(oldest);
        this.#readAt.delete(oldest);
      }
    }
    // Set anew at the end: the first key is the device read longest ago, the one evicted above.
    this.#recent.delete(deviceId);
    this.#recent.set(deviceId, list);
    this.#readAt.set(deviceId, this.#clock.now());
  }

  /** Reads the device's recent commands (a device that connects is read before its first reading). */
  async warm(deviceId: string): Promise<void> {
    if (this.#loading.has(deviceId)) return;
    this.#loading.add(deviceId);
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        const before = this.#writes.get(deviceId) ?? 0;
        const list = await this.#store.forDevice(deviceId, { limit: RECENT_PER_DEVICE });
        if ((this.#writes.get(deviceId) ?? 0) === before) {
          this.#setRecent(deviceId, list);
          return;
        }
      }
      this.#recent.delete(deviceId); // still changing: read again on next use
    } catch (err) {
      this.#log.warn({ err, deviceId }, 'recent commands not read');
    } finally {
      this.#loading.delete(deviceId);
    }
  }

  /** A command as this node wrote or re-read it. */
  putCommand(c: Command): void {
    this.#touch(c.deviceId);
    const list = this.#recent.get(c.deviceId);
    if (!list) return;
    const i = list.findIndex((x) => x.id === c.id);
    // Reads from other nodes may land out of order: a final state is never replaced by an earlier one.
    if (i >= 0) {
      if (!FINAL_STATUSES.has(list[i].status) || FINAL_STATUSES.has(c.status)) list[i] = c;
    } else {
      list.unshift(c);
      list.sort((a, b) => b.createdAt - a.createdAt);
      if (list.length > RECENT_PER_DEVICE) list.length = RECENT_PER_DEVICE;
    }
  }

  putDesired(deviceId: string, entry: DesiredEntry): void {
    this.#touch(deviceId);
    const list = (this.#desired.get(deviceId) ?? []).filter((e) => e.command !== entry.command);
    list.push(entry);
    list.sort((a, b) => a.command.localeCompare(b.command));
    this.#desired.set(deviceId, list);
    this.#views.delete(deviceId);
  }

  /** Another node changed the device's desired state. */
  async refreshDesired(deviceId: string): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const before = this.#writes.get(deviceId) ?? 0;
      const entries = await this.#store.desired(deviceId);
      if ((this.#writes.get(deviceId) ?? 0) !== before) continue;
      if (entries.length) this.#desired.set(deviceId, entries);
      else this.#desired.delete(deviceId);
      this.#views.delete(deviceId);
      return;
    }
  }

  /** Another node moved a command, or queued new ones: read the device's list again if it is kept. */
  async refreshDevice(deviceId: string): Promise<void> {
    if (!this.#recent.has(deviceId)) return;
    // The kept list answers until the new one is read; a read already under way reads again.
    this.#touch(deviceId);
    await this.warm(deviceId);
  }
}
