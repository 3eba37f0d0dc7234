import { DeviceCredentials } from './device-credentials.ts';
import type { StoredDevice } from './device-rows.ts';
import { type Device, type DeviceChange, type DeviceFilter, filterDevices } from './device-types.ts';
import { DeviceNotFoundError } from './errors.ts';

/**
 * How far back a poll looks past the newest change it saw: a transaction stamped earlier may
 * commit later than one stamped after it.
 */
const POLL_OVERLAP_MS = 3000;

/**
 * Every device of the registry in memory, with its credentials: what the hot path reads. Also
 * what this node knows of the rows (their changed_at), so that a row another node changed is
 * told apart from one this node wrote, and which devices are connected here.
 */
export class DeviceCache {
  readonly creds: DeviceCredentials;
  readonly #devices = new Map<string, Device>();
  readonly #dirty = new Set<string>();
  readonly #listeners: Array<(device: Device, change: DeviceChange) => void> = [];
  readonly #cutOffListeners: Array<(id: string) => void> = [];
  /** Devices whose connection this node holds: their presence is this node's to say. */
  readonly #connectedHere = new Set<string>();
  /** The changed_at of each row as last read or written here (shared registry). */
  readonly #known = new Map<string, number>();
  #changedAt = 0;
  #presenceAt = 0;
  readonly #nodeId: string;

  constructor(opts: { scryptQueue?: number; clock: { now(): number }; nodeId: string }) {
    this.creds = new DeviceCredentials(opts);
    this.#nodeId = opts.nodeId;
  }

  get(id: string): Device | undefined {
    return this.#devices.get(id);
  }

  require(id: string): Device {
    const d = this.#devices.get(id);
    if (!d) throw new DeviceNotFoundError(id);
    return d;
  }

  has(id: string): boolean {
    return this.#devices.has(id);
  }

  values(): IterableIterator<Device> {
    return this.#devices.values();
  }

  count(): number {
    return this.#devices.size;
  }

  list(filter: DeviceFilter): Device[] {
    return filterDevices(this.#devices.values(), filter);
  }

  /** A record changed here: the new object replaces the old one (its row is written already). */
  replace(device: Device): void {
    this.#devices.set(device.id, device);
  }

  /** The row's changed_at after a write of this node's, so that a poll does not take it for another's. */
  wrote(id: string, changedAt: number): void {
    this.#known.set(id, changedAt);
  }

  /** A row as read or inserted here. */
  take(
    stored: Pick<StoredDevice, 'secretHash' | 'previous' | 'changedAt'> & { presenceAt?: number },
    device: Device,
  ): void {
    this.#devices.set(device.id, device);
    this.creds.set({ id: device.id, secretHash: stored.secretHash, previous: stored.previous });
    this.#known.set(device.id, stored.changedAt);
    this.#changedAt = Math.max(this.#changedAt, stored.changedAt);
    this.#presenceAt = Math.max(this.#presenceAt, stored.presenceAt ?? 0);
  }

  onChange(fn: (device: Device, change: DeviceChange) => void): void {
    this.#listeners.push(fn);
  }

  onCutOff(fn: (id: string) => void): void {
    this.#cutOffListeners.push(fn);
  }

  emit(device: Device, change: DeviceChange): void {
    for (const fn of this.#listeners) fn(device, change);
  }

  /** Where a poll starts: the newest changes seen, less the overlap. */
  pollFrom(): { changedAt: number; presenceAt: number } {
    return { changedAt: this.#changedAt - POLL_OVERLAP_MS, presenceAt: this.#presenceAt - POLL_OVERLAP_MS };
  }

  /**
   * A row as another node left it. A fleet change (changed_at moved) makes a NEW record, as a
   * local update does (the ingest caches are keyed by the record), and is told to the listeners;
   * presence, last reading and state are taken in place where newer than what this node has.
   */
  apply(stored: StoredDevice): void {
    const { device: row } = stored;
    const old = this.#devices.get(row.id);
    this.#changedAt = Math.max(this.#changedAt, stored.changedAt);
    this.#presenceAt = Math.max(this.#presenceAt, stored.presenceAt);
    // Presence this node wrote, or of a device connected here, is this node's to say: a row read
    // before this node's next flush must not bring back what it has since changed.
    const ours = this.#connectedHere.has(row.id) || stored.onlineNode === this.#nodeId;
    if (old && this.#known.get(row.id) === stored.changedAt) {
      mergeHot(old, row, !ours);
      return;
    }
    const next: Device = { ...row };
    if (old) mergeHot(next, old, ours);
    const secretChanged = old !== undefined && this.creds.hash(row.id) !== stored.secretHash;
    this.take(stored, next);
    const change: DeviceChange = !old
      ? 'registered'
      : (old.enabled && !next.enabled) || (!old.decommissionedAt && next.decommissionedAt)
        ? 'disabled'
        : !old.enabled && next.enabled
          ? 'enabled'
          : 'updated';
    const cutOff = change === 'disabled' || (secretChanged && !stored.previous);
    if (cutOff) this.creds.forget(row.id);
    this.emit(next, change);
    if (cutOff) for (const fn of this.#cutOffListeners) fn(row.id);
  }

  markPresence(id: string, online: boolean, at: number): void {
    const d = this.#devices.get(id);
    if (!d) return;
    d.online = online;
    d.lastSeenAt = at;
    if (online) this.#connectedHere.add(id);
    else this.#connectedHere.delete(id);
    this.#dirty.add(id);
  }

  recordReading(id: string, reading: Record<string, unknown>, at: number): void {
    const d = this.#devices.get(id);
    if (!d) return;
    if (d.lastReadingAt !== null && at < d.lastReadingAt) return; // a late reading is not the last one
    d.lastReading = d.lastReading ? Object.assign(d.lastReading, reading) : { ...reading };
    d.lastReadingAt = at;
    d.lastSeenAt = Math.max(d.lastSeenAt ?? 0, at);
    this.#dirty.add(id);
  }

  recordState(id: string, state: Record<string, unknown>, at: number): void {
    const d = this.#devices.get(id);
    if (!d) return;
    d.reportedState = { ...(d.reportedState ?? {}), ...state };
    d.reportedAt = at;
    this.#dirty.add(id);
  }

  /** The devices touched since the last call; give them back with untouched() if not written. */
  touched(): string[] {
    const ids = [...this.#dirty];
    this.#dirty.clear();
    return ids;
  }

  untouched(ids: readonly string[]): void {
    for (const id of ids) this.#dirty.add(id);
  }
}

/** Takes `from`'s last reading, state and last seen into `into` where newer; its presence if `presence`. */
function mergeHot(into: Device, from: Device, presence: boolean): void {
  if (presence) into.online = from.online;
  if ((from.lastReadingAt ?? -1) > (into.lastReadingAt ?? -1)) {
    into.lastReading = from.lastReading;
    into.lastReadingAt = from.lastReadingAt;
  }
  if ((from.reportedAt ?? -1) > (into.reportedAt ?? -1)) {
    into.reportedState = from.reportedState;
    into.reportedAt = from.reportedAt;
  }
  if ((from.lastSeenAt ?? -1) > (into.lastSeenAt ?? -1)) into.lastSeenAt = from.lastSeenAt;
}
