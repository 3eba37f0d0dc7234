import { findFirmware, type ModelSpec } from '../firmware-specs/define-device.ts';
import { DeviceCache } from './device-cache.ts';
import {
  checkImport,
  checkNew,
  type ImportRows,
  type Made,
  makeDevices,
  type Problems,
} from './device-registration.ts';
import type { DeviceRows, FleetFields, Written } from './device-rows.ts';
import type {
  CredentialResult,
  Device,
  DeviceChange,
  DeviceChanges,
  DeviceFilter,
  DevicePatch,
  NewDevice,
  RowProblem,
} from './device-types.ts';
import {
  DeviceDecommissionedError,
  DeviceExistsError,
  DeviceHasNoSecretError,
  DeviceNotFoundError,
  FirmwareUnsupportedError,
  ModelNotFoundError,
} from './errors.ts';
import { generateSecret, hashGeneratedSecret } from './secrets.ts';

export * from './device-types.ts';

/** Import rows whose secrets and records are made between two turns of the event loop. */
const IMPORT_ROWS_PER_TURN = 5000;

const sameValue = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The fleet operations of issue 12, as the API and the campaigns use them. */
export interface FleetStore {
  checkNew(input: NewDevice): RowProblem | null;
  checkImport(rows: ImportRows): { valid: NewDevice[]; problems: Problems };
  importDevices(
    rows: ImportRows,
    opts: { partial: boolean; actor: string; now: number },
  ): Promise<{ imported: Array<{ device: Device; secret: string | null }>; problems: Problems }>;
  update(id: string, patch: DevicePatch, actor: string): Promise<{ device: Device; changes: DeviceChanges }>;
  setFirmware(id: string, firmware: string, actor: string): Promise<Device>;
  rotateSecret(
    id: string,
    graceSeconds: number,
    actor: string,
  ): Promise<{ device: Device; secret: string; previousValidUntil: number | null }>;
  decommission(id: string, actor: string, reason?: string): Promise<Device>;
}

export interface DeviceStoreOptions {
  scryptQueue?: number;
  clock?: { now(): number };
  /** This node (NODE_ID): the owner of the presence it writes. */
  nodeId?: string;
  /** Tells the other nodes a device's fleet fields changed (ClusterBus `device.changed`). */
  announce?: (id: string) => void;
}

/**
 * Devices and their credentials. Every device is held in memory and reads are served from there;
 * fleet changes are written through (with their audit entries, in one transaction) and the hot
 * path (presence, last reading, reported state) is written behind by flush(). On a shared
 * (PostgreSQL) registry, changes made by other nodes are re-read: reload() on their message,
 * poll() for a message missed.
 */
export class DeviceStore implements FleetStore {
  readonly #rows: DeviceRows;
  readonly #specs: ReadonlyMap<string, ModelSpec>;
  readonly #cache: DeviceCache;
  readonly #clock: { now(): number };
  readonly #nodeId: string;
  readonly #announce: (id: string) => void;
  readonly #toReload = new Set<string>();
  #reloading: Promise<void> | null = null;

  private constructor(rows: DeviceRows, specs: ReadonlyMap<string, ModelSpec>, opts: DeviceStoreOptions) {
    this.#rows = rows;
    this.#specs = specs;
    this.#clock = opts.clock ?? { now: () => Date.now() };
    this.#cache = new DeviceCache({
      scryptQueue: opts.scryptQueue,
      clock: this.#clock,
      nodeId: opts.nodeId ?? 'local',
    });
    this.#nodeId = opts.nodeId ?? 'local';
    this.#announce = opts.announce ?? (() => {});
  }

  /** A store holding every row of `rows` in memory. */
  static async open(
    rows: DeviceRows,
    specs: ReadonlyMap<string, ModelSpec>,
    opts: DeviceStoreOptions = {},
  ): Promise<DeviceStore> {
    const store = new DeviceStore(rows, specs, opts);
    for (const stored of await rows.loadAll()) store.#cache.take(stored, stored.device);
    return store;
  }

  /** The first reason `input` cannot be registered (model, firmware, Modbus, id taken), or null. */
  checkNew(input: NewDevice): RowProblem | null {
    return checkNew(this.#specs, this.#cache.get(input.id), input);
  }

  /** The rows' problems (those of register(), and ids repeated in the batch), and the valid rows. */
  checkImport(rows: ImportRows): { valid: NewDevice[]; problems: Problems } {
    return checkImport(rows, (input) => this.checkNew(input));
  }

  /** Registers a device; the MQTT secret is returned once and kept only as a hash. */
  async register(input: NewDevice, now: number): Promise<{ device: Device; secret: string | null }> {
    const problem = this.checkNew(input);
    if (problem) throw problem.error;
    const made = makeDevices(this.#specs, [{ line: 1, input }], now);
    const written = await this.#rows.insert(made, { allOrNothing: true });
    if (written.length === 0) {
      // Registered through another node meanwhile: its row says whether it is taken or retired.
      await this.#reloadNow([input.id]);
      throw (this.checkNew(input) ?? { error: new DeviceExistsError(input.id) }).error;
    }
    this.#added(made, written);
    const { device, secret } = made[0];
    return { device, secret };
  }

  /**
   * Registers many devices in one transaction, or none: every row is checked first (the same
   * checks as register(), plus ids repeated in the batch). With `partial` the valid rows go in
   * and the others are reported; without it any problem imports nothing.
   */
  async importDevices(
    rows: ImportRows,
    opts: { partial: boolean; actor: string; now: number },
  ): Promise<{ imported: Array<{ device: Device; secret: string | null }>; problems: Problems }> {
    const { problems } = this.checkImport(rows);
    if (problems.length > 0 && !opts.partial) return { imported: [], problems };
    const bad = new Set(problems.map((p) => p.line));
    const valid = rows.filter((r) => !bad.has(r.line));
    // Secrets, hashes and records are made between turns of the event loop; only the inserts
    // hold the database, in the one transaction.
    const made: Made[] = [];
    for (let i = 0; i < valid.length; i += IMPORT_ROWS_PER_TURN) {
      made.push(...makeDevices(this.#specs, valid.slice(i, i + IMPORT_ROWS_PER_TURN), opts.now));
      await new Promise((r) => setImmediate(r));
    }
    // Ids registered meanwhile, by another request here or through another node.
    const late = made.filter((m) => this.#cache.has(m.device.id));
    const fresh = late.length ? made.filter((m) => !this.#cache.has(m.device.id)) : made;
    const written =
      late.length > 0 && !opts.partial
        ? []
        : await this.#rows.insert(fresh, {
            allOrNothing: !opts.partial,
            audit: (device) => ({
              at: opts.now,
              actor: opts.actor,
              action: 'device.register',
              subject: device.id,
              detail: { model: device.model, via: 'import' },
            }),
          });
    const inserted = new Set(written.map((w) => w.id));
    const taken = fresh.filter((m) => !inserted.has(m.device.id));
    if (taken.length > 0) await this.#reloadNow(taken.map((m) => m.device.id));
    // Rolled back whole, an all-or-nothing insert names no id: the rows re-read say which.
    for (const m of [...late, ...taken]) {
      const problem = this.checkNew(m.input);
      if (problem) problems.push({ line: m.line, problem });
    }
    if (taken.length > 0 && problems.length === 0)
      problems.push({ line: taken[0].line, problem: idTaken(taken[0].input.id) });
    if (problems.length > 0 && !opts.partial) return { imported: [], problems };
    const added = fresh.filter((m) => inserted.has(m.device.id));
    this.#added(added, written);
    return { imported: added.map(({ device, secret }) => ({ device, secret })), problems };
  }

  #added(made: Made[], written: Written[]): void {
    const changedAt = new Map(written.map((w) => [w.id, w.changedAt]));
    for (const { device, hash } of made) {
      this.#cache.take(
        { secretHash: hash, previous: null, changedAt: changedAt.get(device.id) ?? 0 },
        device,
      );
      this.#cache.emit(device, 'registered');
      this.#announce(device.id);
    }
  }

  /**
   * Changes firmware, district, ward, location or tags; audited with the old and new values.
   * The device gets a new record object: whatever was derived from the old one (the firmware
   * schema and the line-protocol tags the normalizer caches per object) is derived afresh from
   * the next reading on.
   */
  async update(
    id: string,
    patch: DevicePatch,
    actor: string,
  ): Promise<{ device: Device; changes: DeviceChanges }> {
    const d = this.#requireActive(id);
    if (patch.firmware !== undefined && patch.firmware !== d.firmware) {
      const spec = this.#specs.get(d.model);
      if (!spec) throw new ModelNotFoundError(d.model);
      if (!findFirmware(spec, patch.firmware))
        throw new FirmwareUnsupportedError(d.model, patch.firmware, Object.keys(spec.firmware).join(', '));
    }
    const changes: DeviceChanges = {};
    for (const key of ['firmware', 'district', 'ward', 'lat', 'lon', 'tags'] as const) {
      const to = patch[key];
      if (to !== undefined && !sameValue(d[key], to)) changes[key] = { from: d[key], to };
    }
    if (Object.keys(changes).length === 0) return { device: d, changes };
    const fields: FleetFields = {};
    for (const [key, change] of Object.entries(changes)) Object.assign(fields, { [key]: change.to });
    const now = this.#clock.now();
    const { firmware, ...others } = changes;
    await this.#write(id, fields, [
      ...(firmware ? [{ at: now, actor, action: 'device.firmware', subject: id, detail: firmware }] : []),
      ...(Object.keys(others).length > 0
        ? [{ at: now, actor, action: 'device.update', subject: id, detail: others }]
        : []),
    ]);
    const next: Device = { ...this.require(id), ...fields };
    this.#cache.replace(next);
    this.#cache.emit(next, 'updated');
    return { device: next, changes };
  }

  /** What the firmware campaigns call once a device reports its new version after an update. */
  async setFirmware(id: string, firmware: string, actor: string): Promise<Device> {
    return (await this.update(id, { firmware }, actor)).device;
  }

  /**
   * A new secret, returned once; the previous one still works for `graceSeconds` (0: not at all),
   * long enough for an installer to reconfigure the device.
   */
  async rotateSecret(
    id: string,
    graceSeconds: number,
    actor: string,
  ): Promise<{ device: Device; secret: string; previousValidUntil: number | null }> {
    const d = this.#requireActive(id);
    const current = this.#cache.creds.hash(id);
    if (!current) throw new DeviceHasNoSecretError(id);
    const secret = generateSecret();
    const hash = hashGeneratedSecret(secret);
    const now = this.#clock.now();
    const until = graceSeconds > 0 ? now + graceSeconds * 1000 : null;
    await this.#write(
      id,
      { secretHash: hash, previousSecretHash: until ? current : null, previousSecretUntil: until },
      [
        {
          at: now,
          actor,
          action: 'device.rotate_secret',
          subject: id,
          detail: { graceSeconds, previousValidUntil: until && new Date(until).toISOString() },
        },
      ],
    );
    this.#cache.creds.set({ id, secretHash: hash, previous: until ? { hash: current, until } : null });
    this.#cache.creds.forget(id);
    return { device: d, secret, previousValidUntil: until };
  }

  /**
   * Disabled for good: the secret is erased (it can never connect again), the row stays (its
   * history, commands and audit refer to it) and its id is never registered again.
   */
  async decommission(id: string, actor: string, reason?: string): Promise<Device> {
    this.#requireActive(id);
    const now = this.#clock.now();
    const retired = { secretHash: null, previousSecretHash: null, previousSecretUntil: null };
    await this.#write(id, { enabled: false, decommissionedAt: now, ...retired }, [
      { at: now, actor, action: 'device.decommission', subject: id, detail: reason ? { reason } : undefined },
    ]);
    const d = this.require(id);
    d.enabled = false;
    d.decommissionedAt = now;
    this.#cache.creds.set({ id, secretHash: null, previous: null });
    this.#cache.creds.forget(id);
    this.#cache.emit(d, 'disabled');
    return d;
  }

  async setEnabled(id: string, enabled: boolean): Promise<Device> {
    if (enabled) this.#requireActive(id);
    else this.require(id);
    await this.#write(id, { enabled }, []);
    const d = this.require(id);
    d.enabled = enabled;
    if (!enabled) this.#cache.creds.forget(id);
    this.#cache.emit(d, enabled ? 'enabled' : 'disabled');
    return d;
  }

  /** Writes a fleet change and tells the other nodes; the row must be there. */
  async #write(id: string, fields: FleetFields, audit: Parameters<DeviceRows['update']>[2]): Promise<void> {
    const written = await this.#rows.update(id, fields, audit);
    if (!written) throw new DeviceNotFoundError(id);
    this.#cache.wrote(id, written.changedAt);
    this.#announce(id);
  }

  #requireActive(id: string): Device {
    const d = this.require(id);
    if (d.decommissionedAt)
      throw new DeviceDecommissionedError(id, new Date(d.decommissionedAt).toISOString());
    return d;
  }

  /** Adapters and the command service follow registrations, changes and enable/disable. */
  onChange(fn: (device: Device, change: DeviceChange) => void): void {
    this.#cache.onChange(fn);
  }

  /**
   * A change made through another node ends the device's live connection here: it was disabled,
   * decommissioned, or its secret rotated without grace (the node that made it cuts it off itself).
   */
  onCutOff(fn: (id: string) => void): void {
    this.#cache.onCutOff(fn);
  }

  get(id: string): Device | undefined {
    return this.#cache.get(id);
  }

  require(id: string): Device {
    return this.#cache.require(id);
  }

  /** The device's model, or undefined when its file is not loaded (removed or renamed since). */
  spec(device: Device): ModelSpec | undefined {
    return this.#specs.get(device.model);
  }

  /** Models of registered devices that are not loaded, with how many devices use each. */
  missingModels(): Map<string, number> {
    const missing = new Map<string, number>();
    for (const d of this.#cache.values())
      if (!this.#specs.has(d.model)) missing.set(d.model, (missing.get(d.model) ?? 0) + 1);
    return missing;
  }

  list(filter: DeviceFilter = {}): Device[] {
    return this.#cache.list(filter);
  }

  /** Every device, in no order: for counting without the sort that list() does. */
  values(): IterableIterator<Device> {
    return this.#cache.values();
  }

  count(): number {
    return this.#cache.count();
  }

  /** The secret was verified before in this process: checking it again costs no scrypt. */
  hasVerified(id: string, secret: string): boolean {
    return this.#cache.creds.hasVerified(id, secret);
  }

  /** Checks a CONNECT's credentials in memory (device-credentials.ts says how). */
  verifyCredentials(
    id: string,
    secret: string,
    opts: { suspect?: boolean; burst?: boolean; cancelled?: () => boolean } = {},
  ): Promise<CredentialResult> {
    return this.#cache.creds.verify(this.#cache.get(id), id, secret, opts, (id, old, secret) =>
      this.#rehash(id, old, secret),
    );
  }

  /**
   * A scrypt hash whose secret just matched becomes SHA-256 (unless it changed meanwhile). Not
   * awaited by the CONNECT: a failed write leaves the scrypt hash, rewritten at a later CONNECT.
   */
  #rehash(id: string, old: string, secret: string): void {
    const hash = hashGeneratedSecret(secret);
    this.#rows.update(id, { secretHash: hash }, [], { ifSecretHash: old }).then(
      (written) => {
        if (!written || this.#cache.creds.hash(id) !== old) return;
        this.#cache.wrote(id, written.changedAt);
        this.#cache.creds.rehashed(id, hash);
      },
      () => {},
    );
  }

  markPresence(id: string, online: boolean, at: number): void {
    this.#cache.markPresence(id, online, at);
  }

  recordReading(id: string, reading: Record<string, unknown>, at: number): void {
    this.#cache.recordReading(id, reading, at);
  }

  recordState(id: string, state: Record<string, unknown>, at: number): void {
    this.#cache.recordState(id, state, at);
  }

  /** Writes the hot-path fields of every device touched since the last flush; returns how many. */
  async flush(): Promise<number> {
    const ids = this.#cache.touched();
    if (ids.length === 0) return 0;
    const devices = ids.flatMap((id) => this.#cache.get(id) ?? []);
    try {
      await this.#rows.writeHot(devices, this.#nodeId);
    } catch (err) {
      // Kept for the next flush: a failed one (a full disk, the database away) loses nothing.
      this.#cache.untouched(ids);
      throw err;
    }
    return ids.length;
  }

  /**
   * After an unclean stop nobody is connected here: presence starts from offline. On a shared
   * registry only this node's devices are marked offline; the others' stay as their nodes say.
   */
  async resetPresence(): Promise<void> {
    for (const id of await this.#rows.resetPresence(this.#rows.shared ? this.#nodeId : null)) {
      const d = this.#cache.get(id);
      if (d) d.online = false;
    }
  }

  /**
   * Re-reads one device (shared registry): a change made through another node, and the last
   * reading, state and presence other nodes wrote at their last flush.
   */
  async refresh(id: string): Promise<Device | undefined> {
    if (this.#rows.shared) await this.#reloadNow([id]);
    return this.#cache.get(id);
  }

  /** Another node changed these devices (its device.changed message): re-read them soon, together. */
  reload(id: string): Promise<void> {
    this.#toReload.add(id);
    this.#reloading ??= new Promise<void>((r) => setImmediate(r)).then(async () => {
      const ids = [...this.#toReload];
      this.#toReload.clear();
      this.#reloading = null;
      await this.#reloadNow(ids);
    });
    return this.#reloading;
  }

  /**
   * Catches up with changes whose message was missed (shared registry): rows changed since the
   * newest change seen, with an overlap for transactions that committed late.
   */
  async poll(): Promise<void> {
    if (!this.#rows.shared) return;
    const from = this.#cache.pollFrom();
    for (const stored of await this.#rows.changedSince(from.changedAt, from.presenceAt))
      this.#cache.apply(stored);
  }

  async #reloadNow(ids: string[]): Promise<void> {
    for (const stored of await this.#rows.loadMany(ids)) this.#cache.apply(stored);
  }
}

const idTaken = (id: string): RowProblem => ({ field: 'id', error: new DeviceExistsError(id) });
