import { findFirmware, type ModelSpec } from '../firmware-specs/define-device.ts';
import type { Family } from '../firmware-specs/families.ts';
import { AuditLog, type AuditStore } from './audit.ts';
import type { Db } from './db.ts';
import {
  DeviceDecommissionedError,
  DeviceExistsError,
  DeviceHasNoSecretError,
  DeviceNotFoundError,
  FirmwareUnsupportedError,
  ModbusConfigError,
  ModelNotFoundError,
  ScryptQueueFullError,
} from './errors.ts';
import {
  generateSecret,
  generateSecrets,
  hashGeneratedSecret,
  isFastHash,
  ScryptQueue,
  unmatchableHash,
  VerifiedSecrets,
  verifyFastSecret,
  verifySecret,
} from './secrets.ts';

export interface ModbusEndpoint {
  host: string;
  port: number;
  unitId: number;
}

export interface Device {
  id: string;
  model: string;
  family: Family;
  firmware: string;
  district: string;
  ward: string;
  lat: number | null;
  lon: number | null;
  tags: string[];
  enabled: boolean;
  modbus: ModbusEndpoint | null;
  createdAt: number;
  online: boolean;
  lastSeenAt: number | null;
  lastReading: Record<string, unknown> | null;
  lastReadingAt: number | null;
  reportedState: Record<string, unknown> | null;
  reportedAt: number | null;
  /** Set once decommissioned: the device is disabled for good, its id kept (not reused). */
  decommissionedAt?: number | null;
}

export type DeviceStatus = 'online' | 'offline' | 'disabled';

/** What the operations centre calls a device's status: disabled first, then presence. */
export const deviceStatus = (d: Device): DeviceStatus =>
  !d.enabled ? 'disabled' : d.online ? 'online' : 'offline';

export interface NewDevice {
  id: string;
  model: string;
  firmware: string;
  district: string;
  ward: string;
  lat?: number;
  lon?: number;
  tags?: string[];
  modbus?: ModbusEndpoint;
}

/** A device as it is on registration: enabled, never seen, nothing reported yet. */
export function newDevice(input: NewDevice, family: Family, now: number): Device {
  return {
    id: input.id,
    model: input.model,
    family,
    firmware: input.firmware,
    district: input.district,
    ward: input.ward,
    lat: input.lat ?? null,
    lon: input.lon ?? null,
    tags: input.tags ?? [],
    enabled: true,
    modbus: input.modbus ?? null,
    createdAt: now,
    online: false,
    lastSeenAt: null,
    lastReading: null,
    lastReadingAt: null,
    reportedState: null,
    reportedAt: null,
  };
}

export interface DeviceFilter {
  family?: string;
  district?: string;
  ward?: string;
  tag?: string;
  status?: DeviceStatus;
  ids?: string[];
  model?: string;
  /** Decommissioned devices are left out of lists unless this is true (then only they are listed). */
  decommissioned?: boolean;
  limit?: number;
  offset?: number;
}

/** What may change in a registered device (issue 12); absent fields stay, null clears lat/lon. */
export interface DevicePatch {
  firmware?: string;
  district?: string;
  ward?: string;
  lat?: number | null;
  lon?: number | null;
  tags?: string[];
}

export type DeviceChanges = Partial<Record<keyof DevicePatch, { from: unknown; to: unknown }>>;

/** A new device's first problem, by field: what registration throws and what an import reports. */
export interface RowProblem {
  field: string;
  error: Error;
}

export type DeviceChange = 'registered' | 'enabled' | 'disabled' | 'updated';

export const CREDENTIAL_RESULTS = {
  ok: 'ok',
  unknown: 'unknown',
  bad: 'bad',
  disabled: 'disabled',
  noSecret: 'noSecret',
  /** The scrypt queue was full: nothing was checked. */
  busy: 'busy',
  /** The device was decommissioned: it never connects again. */
  decommissioned: 'decommissioned',
} as const;
export type CredentialResult = keyof typeof CREDENTIAL_RESULTS;

interface Row {
  id: string;
  model: string;
  family: string;
  firmware: string;
  district: string;
  ward: string;
  lat: number | null;
  lon: number | null;
  tags: string;
  enabled: number;
  secret_hash: string | null;
  modbus: string | null;
  created_at: number;
  online: number;
  last_seen_at: number | null;
  last_reading: string | null;
  last_reading_at: number | null;
  reported_state: string | null;
  reported_at: number | null;
  previous_secret_hash: string | null;
  previous_secret_until: number | null;
  decommissioned_at: number | null;
}

function fromRow(r: Row): Device {
  return {
    id: r.id,
    model: r.model,
    family: r.family as Family,
    firmware: r.firmware,
    district: r.district,
    ward: r.ward,
    lat: r.lat,
    lon: r.lon,
    tags: JSON.parse(r.tags),
    enabled: r.enabled === 1,
    modbus: r.modbus ? JSON.parse(r.modbus) : null,
    createdAt: r.created_at,
    online: r.online === 1,
    lastSeenAt: r.last_seen_at,
    lastReading: r.last_reading ? JSON.parse(r.last_reading) : null,
    lastReadingAt: r.last_reading_at,
    reportedState: r.reported_state ? JSON.parse(r.reported_state) : null,
    reportedAt: r.reported_at,
    decommissionedAt: r.decommissioned_at,
  };
}

const INSERT_DEVICE = `INSERT INTO devices (id, model, family, firmware, district, ward, lat, lon, tags, enabled, secret_hash, modbus, created_at)
  VALUES (@id, @model, @family, @firmware, @district, @ward, @lat, @lon, @tags, 1, @secretHash, @modbus, @createdAt)`;

const insertArgs = (device: Device, secretHash: string | null) => ({
  ...device,
  tags: JSON.stringify(device.tags),
  modbus: device.modbus ? JSON.stringify(device.modbus) : null,
  secretHash,
});

/** Import rows whose secrets and records are made between two turns of the event loop. */
const IMPORT_ROWS_PER_TURN = 5000;

/** A checked row made into a record, its secret (shown once) and the hash to store. */
interface Made {
  line: number;
  input: NewDevice;
  device: Device;
  secret: string | null;
  hash: string | null;
}

const sameValue = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The fleet operations of issue 12, as the API and the campaigns use them; a PostgreSQL store
 * implements the same. Each change is written with its audit entry in one transaction.
 */
export interface FleetStore {
  checkNew(input: NewDevice): RowProblem | null;
  checkImport(rows: ReadonlyArray<{ line: number; input: NewDevice }>): {
    valid: NewDevice[];
    problems: Array<{ line: number; problem: RowProblem }>;
  };
  importDevices(
    rows: ReadonlyArray<{ line: number; input: NewDevice }>,
    opts: { partial: boolean; actor: string; now: number },
  ): Promise<{
    imported: Array<{ device: Device; secret: string | null }>;
    problems: Array<{ line: number; problem: RowProblem }>;
  }>;
  update(id: string, patch: DevicePatch, actor: string): { device: Device; changes: DeviceChanges };
  setFirmware(id: string, firmware: string, actor: string): Device;
  rotateSecret(
    id: string,
    graceSeconds: number,
    actor: string,
  ): { device: Device; secret: string; previousValidUntil: number | null };
  decommission(id: string, actor: string, reason?: string): Device;
}

/**
 * Devices and their credentials. Reads are served from memory; the hot path (last reading,
 * presence) is written behind, in one transaction per flush, not one per reading.
 */
export class DeviceStore implements FleetStore {
  readonly #db: Db;
  readonly #specs: ReadonlyMap<string, ModelSpec>;
  readonly #cache = new Map<string, Device>();
  readonly #secretHashes = new Map<string, string | null>();
  /** A rotated secret's previous hash and until when it still works (epoch ms). */
  readonly #previous = new Map<string, { hash: string; until: number }>();
  readonly #verified = new VerifiedSecrets();
  readonly #dirty = new Set<string>();
  readonly #scrypt: ScryptQueue;
  readonly #unmatchable: string;
  readonly #clock: { now(): number };
  readonly #audit: AuditStore;
  readonly #listeners: Array<(device: Device, change: DeviceChange) => void> = [];

  constructor(
    db: Db,
    specs: ReadonlyMap<string, ModelSpec>,
    opts: {
      /** Kept for callers of before issue 12: new secrets are SHA-256, scrypt hashes verify at their own cost. */
      secretCost?: number;
      scryptQueue?: number;
      clock?: { now(): number };
      audit?: AuditStore;
    } = {},
  ) {
    this.#db = db;
    this.#specs = specs;
    this.#scrypt = new ScryptQueue({ limit: opts.scryptQueue });
    this.#unmatchable = unmatchableHash();
    this.#clock = opts.clock ?? { now: () => Date.now() };
    this.#audit = opts.audit ?? new AuditLog(db);
    for (const row of db.prepare('SELECT * FROM devices').all() as Row[]) {
      this.#cache.set(row.id, fromRow(row));
      this.#secretHashes.set(row.id, row.secret_hash);
      if (row.previous_secret_hash && row.previous_secret_until)
        this.#previous.set(row.id, { hash: row.previous_secret_hash, until: row.previous_secret_until });
    }
  }

  /** The first reason `input` cannot be registered (model, firmware, Modbus, id taken), or null. */
  checkNew(input: NewDevice): RowProblem | null {
    const spec = this.#specs.get(input.model);
    if (!spec) return { field: 'model', error: new ModelNotFoundError(input.model) };
    if (!findFirmware(spec, input.firmware))
      return {
        field: 'firmware',
        error: new FirmwareUnsupportedError(
          input.model,
          input.firmware,
          Object.keys(spec.firmware).join(', '),
        ),
      };
    if (spec.modbus && !input.modbus)
      return {
        field: 'modbus',
        error: new ModbusConfigError(
          `model ${input.model} is a Modbus device: modbus {host, port, unitId} is required`,
        ),
      };
    if (!spec.modbus && input.modbus)
      return {
        field: 'modbus',
        error: new ModbusConfigError(`model ${input.model} is not a Modbus device: modbus must be absent`),
      };
    const existing = this.#cache.get(input.id);
    if (existing?.decommissionedAt)
      return {
        field: 'id',
        error: new DeviceDecommissionedError(input.id, new Date(existing.decommissionedAt).toISOString()),
      };
    if (existing) return { field: 'id', error: new DeviceExistsError(input.id) };
    return null;
  }

  /** Registers a device; the MQTT secret is returned once and kept only as a hash. */
  async register(input: NewDevice, now: number): Promise<{ device: Device; secret: string | null }> {
    const problem = this.checkNew(input);
    if (problem) throw problem.error;
    const made = this.#make([{ line: 1, input }], now);
    this.#write(made, now);
    const { device, secret } = made[0];
    this.#emit(device, 'registered');
    return { device, secret };
  }

  /**
   * Registers many devices in one transaction, or none: every row is checked first (the same
   * checks as register(), plus ids repeated in the batch). With `partial` the valid rows go in
   * and the others are reported; without it any problem imports nothing.
   */
  async importDevices(
    rows: ReadonlyArray<{ line: number; input: NewDevice }>,
    opts: { partial: boolean; actor: string; now: number },
  ): Promise<{
    imported: Array<{ device: Device; secret: string | null }>;
    problems: Array<{ line: number; problem: RowProblem }>;
  }> {
    const { problems } = this.checkImport(rows);
    if (problems.length > 0 && !opts.partial) return { imported: [], problems };
    const bad = new Set(problems.map((p) => p.line));
    const valid = rows.filter((r) => !bad.has(r.line));
    // Secrets, hashes and records are made between turns of the event loop; only the inserts
    // hold it, in the one transaction.
    const made: Made[] = [];
    for (let i = 0; i < valid.length; i += IMPORT_ROWS_PER_TURN) {
      made.push(...this.#make(valid.slice(i, i + IMPORT_ROWS_PER_TURN), opts.now));
      await new Promise((r) => setImmediate(r));
    }
    // Ids registered by another request meanwhile.
    const late = made.filter((m) => this.#cache.has(m.device.id));
    for (const m of late) problems.push({ line: m.line, problem: this.checkNew(m.input)! });
    if (late.length > 0 && !opts.partial) return { imported: [], problems };
    const fresh = late.length ? made.filter((m) => !this.#cache.has(m.device.id)) : made;
    this.#write(fresh, opts.now, opts.actor);
    for (const { device } of fresh) this.#emit(device, 'registered');
    return { imported: fresh.map(({ device, secret }) => ({ device, secret })), problems };
  }

  /** The rows' problems (those of register(), and ids repeated in the batch), and the valid rows. */
  checkImport(rows: ReadonlyArray<{ line: number; input: NewDevice }>): {
    valid: NewDevice[];
    problems: Array<{ line: number; problem: RowProblem }>;
  } {
    const problems: Array<{ line: number; problem: RowProblem }> = [];
    const firstLine = new Map<string, number>();
    const valid: NewDevice[] = [];
    for (const { line, input } of rows) {
      const seen = firstLine.get(input.id);
      const problem: RowProblem | null =
        seen !== undefined
          ? { field: 'id', error: new DeviceExistsError(`${input.id} (line ${seen} of this import)`) }
          : this.checkNew(input);
      firstLine.set(input.id, seen ?? line);
      if (problem) problems.push({ line, problem });
      else valid.push(input);
    }
    return { valid, problems };
  }

  /** New records with their secrets (MQTT models) and the hashes to store; nothing written yet. */
  #make(rows: ReadonlyArray<{ line: number; input: NewDevice }>, now: number): Made[] {
    const secrets = generateSecrets(rows.length);
    return rows.map(({ line, input }, i) => {
      const spec = this.#specs.get(input.model)!;
      const secret = spec.modbus ? null : secrets[i];
      return {
        line,
        input,
        device: newDevice(input, spec.family, now),
        secret,
        hash: secret ? hashGeneratedSecret(secret) : null,
      };
    });
  }

  /** Inserts checked devices (and, for an import, their audit entries) in one transaction. */
  #write(made: Made[], now: number, importedBy?: string): void {
    const insert = this.#db.prepare(INSERT_DEVICE);
    this.#db.transaction(() => {
      for (const { device, hash } of made) {
        insert.run(insertArgs(device, hash));
        if (importedBy)
          this.#audit.record(now, importedBy, 'device.register', device.id, {
            model: device.model,
            via: 'import',
          });
      }
    })();
    for (const { device, hash } of made) {
      this.#cache.set(device.id, device);
      this.#secretHashes.set(device.id, hash);
    }
  }

  /**
   * Changes firmware, district, ward, location or tags; audited with the old and new values.
   * The device gets a new record object: whatever was derived from the old one (the firmware
   * schema and the line-protocol tags the normalizer caches per object) is derived afresh from
   * the next reading on.
   */
  update(id: string, patch: DevicePatch, actor: string): { device: Device; changes: DeviceChanges } {
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
    const next: Device = { ...d };
    for (const [key, change] of Object.entries(changes)) Object.assign(next, { [key]: change.to });
    const now = this.#clock.now();
    this.#db.transaction(() => {
      this.#db
        .prepare(
          'UPDATE devices SET firmware = @firmware, district = @district, ward = @ward, lat = @lat, lon = @lon, tags = @tags WHERE id = @id',
        )
        .run({ ...next, tags: JSON.stringify(next.tags) });
      const { firmware, ...others } = changes;
      if (firmware) this.#audit.record(now, actor, 'device.firmware', id, firmware);
      if (Object.keys(others).length > 0) this.#audit.record(now, actor, 'device.update', id, others);
    })();
    this.#cache.set(id, next);
    this.#emit(next, 'updated');
    return { device: next, changes };
  }

  /** What the firmware campaigns call once a device reports its new version after an update. */
  setFirmware(id: string, firmware: string, actor: string): Device {
    return this.update(id, { firmware }, actor).device;
  }

  /**
   * A new secret, returned once; the previous one still works for `graceSeconds` (0: not at all),
   * long enough for an installer to reconfigure the device.
   */
  rotateSecret(
    id: string,
    graceSeconds: number,
    actor: string,
  ): { device: Device; secret: string; previousValidUntil: number | null } {
    const d = this.#requireActive(id);
    const current = this.#secretHashes.get(id);
    if (!current) throw new DeviceHasNoSecretError(id);
    const secret = generateSecret();
    const hash = hashGeneratedSecret(secret);
    const now = this.#clock.now();
    const until = graceSeconds > 0 ? now + graceSeconds * 1000 : null;
    this.#db.transaction(() => {
      this.#db
        .prepare(
          'UPDATE devices SET secret_hash = ?, previous_secret_hash = ?, previous_secret_until = ? WHERE id = ?',
        )
        .run(hash, until ? current : null, until, id);
      this.#audit.record(now, actor, 'device.rotate_secret', id, {
        graceSeconds,
        previousValidUntil: until && new Date(until).toISOString(),
      });
    })();
    this.#secretHashes.set(id, hash);
    if (until) this.#previous.set(id, { hash: current, until });
    else this.#previous.delete(id);
    this.#verified.forget(id);
    return { device: d, secret, previousValidUntil: until };
  }

  /**
   * Disabled for good: the secret is erased (it can never connect again), the row stays (its
   * history, commands and audit refer to it) and its id is never registered again.
   */
  decommission(id: string, actor: string, reason?: string): Device {
    const d = this.#requireActive(id);
    const now = this.#clock.now();
    this.#db.transaction(() => {
      this.#db
        .prepare(
          `UPDATE devices SET enabled = 0, decommissioned_at = ?, secret_hash = NULL,
             previous_secret_hash = NULL, previous_secret_until = NULL WHERE id = ?`,
        )
        .run(now, id);
      this.#audit.record(now, actor, 'device.decommission', id, reason ? { reason } : undefined);
    })();
    d.enabled = false;
    d.decommissionedAt = now;
    this.#secretHashes.set(id, null);
    this.#previous.delete(id);
    this.#verified.forget(id);
    this.#emit(d, 'disabled');
    return d;
  }

  #requireActive(id: string): Device {
    const d = this.require(id);
    if (d.decommissionedAt)
      throw new DeviceDecommissionedError(id, new Date(d.decommissionedAt).toISOString());
    return d;
  }

  /** Adapters and the command service follow registrations, changes and enable/disable. */
  onChange(fn: (device: Device, change: DeviceChange) => void): void {
    this.#listeners.push(fn);
  }

  #emit(device: Device, change: DeviceChange): void {
    for (const fn of this.#listeners) fn(device, change);
  }

  get(id: string): Device | undefined {
    return this.#cache.get(id);
  }

  require(id: string): Device {
    const d = this.#cache.get(id);
    if (!d) throw new DeviceNotFoundError(id);
    return d;
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
    const ids = filter.ids ? new Set(filter.ids) : null;
    const decommissioned = filter.decommissioned ?? false;
    const out: Device[] = [];
    for (const d of this.#cache.values()) {
      if (Boolean(d.decommissionedAt) !== decommissioned) continue;
      if (ids && !ids.has(d.id)) continue;
      if (filter.family && d.family !== filter.family) continue;
      if (filter.model && d.model !== filter.model) continue;
      if (filter.district && d.district !== filter.district) continue;
      if (filter.ward && d.ward !== filter.ward) continue;
      if (filter.tag && !d.tags.includes(filter.tag)) continue;
      if (filter.status === 'disabled' && d.enabled) continue;
      if (filter.status === 'online' && !(d.enabled && d.online)) continue;
      if (filter.status === 'offline' && !(d.enabled && !d.online)) continue;
      out.push(d);
    }
    out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const offset = filter.offset ?? 0;
    return filter.limit === undefined ? out.slice(offset) : out.slice(offset, offset + filter.limit);
  }

  /** Every device, in no order: for counting without the sort that list() does. */
  values(): IterableIterator<Device> {
    return this.#cache.values();
  }

  count(): number {
    return this.#cache.size;
  }

  setEnabled(id: string, enabled: boolean): Device {
    const d = enabled ? this.#requireActive(id) : this.require(id);
    this.#db.prepare('UPDATE devices SET enabled = ? WHERE id = ?').run(enabled ? 1 : 0, id);
    d.enabled = enabled;
    if (!enabled) this.#verified.forget(id);
    this.#emit(d, enabled ? 'enabled' : 'disabled');
    return d;
  }

  /** The secret was verified before in this process: checking it again costs no scrypt. */
  hasVerified(id: string, secret: string): boolean {
    return this.#verified.has(id, secret);
  }

  /**
   * Unknown ids and ids without a secret are checked against a hash no secret matches, of the
   * same kind as a known id's: the refusal takes as long either way, so ids cannot be enumerated.
   * SHA-256 hashes are checked at once; only a scrypt hash (from before issue 12) takes a turn in
   * the scrypt queue, and is rewritten as SHA-256 once its secret matched.
   */
  async verifyCredentials(
    id: string,
    secret: string,
    opts: { suspect?: boolean; burst?: boolean; cancelled?: () => boolean } = {},
  ): Promise<CredentialResult> {
    const d = this.#cache.get(id);
    const hash = d ? this.#secretHashes.get(id) : undefined;
    if (d && hash && this.#verified.has(id, secret)) return d.enabled ? 'ok' : 'disabled';
    const stored = hash ?? this.#unmatchable;
    const previous = this.#livePrevious(id);
    let match: 'current' | 'previous' | null;
    if (isFastHash(stored) && (!previous || isFastHash(previous))) {
      match = verifyFastSecret(secret, stored)
        ? 'current'
        : previous && verifyFastSecret(secret, previous)
          ? 'previous'
          : null;
    } else {
      try {
        match = await this.#scrypt.run(async () => {
          if (await verifySecret(secret, stored)) return 'current' as const;
          return previous && (await verifySecret(secret, previous)) ? ('previous' as const) : null;
        }, opts);
      } catch (err) {
        if (err instanceof ScryptQueueFullError) return 'busy';
        throw err;
      }
    }
    if (!d) return 'unknown';
    if (d.decommissionedAt) return 'decommissioned';
    if (!hash) return 'noSecret';
    if (!match) return 'bad';
    // The previous secret is checked each time, so that it stops working when its grace ends.
    if (match === 'current') {
      this.#verified.remember(id, secret);
      if (!isFastHash(stored)) this.#rehash(id, stored, secret);
    }
    return d.enabled ? 'ok' : 'disabled';
  }

  #livePrevious(id: string): string | undefined {
    const p = this.#previous.get(id);
    if (!p) return undefined;
    if (p.until > this.#clock.now()) return p.hash;
    this.#previous.delete(id);
    return undefined;
  }

  /** A scrypt hash whose secret just matched becomes SHA-256 (unless it changed meanwhile). */
  #rehash(id: string, old: string, secret: string): void {
    if (this.#secretHashes.get(id) !== old) return;
    const hash = hashGeneratedSecret(secret);
    this.#db
      .prepare('UPDATE devices SET secret_hash = ? WHERE id = ? AND secret_hash = ?')
      .run(hash, id, old);
    this.#secretHashes.set(id, hash);
  }

  markPresence(id: string, online: boolean, at: number): void {
    const d = this.#cache.get(id);
    if (!d) return;
    d.online = online;
    d.lastSeenAt = at;
    this.#dirty.add(id);
  }

  recordReading(id: string, reading: Record<string, unknown>, at: number): void {
    const d = this.#cache.get(id);
    if (!d) return;
    if (d.lastReadingAt !== null && at < d.lastReadingAt) return; // a late reading is not the last one
    d.lastReading = d.lastReading ? Object.assign(d.lastReading, reading) : { ...reading };
    d.lastReadingAt = at;
    d.lastSeenAt = Math.max(d.lastSeenAt ?? 0, at);
    this.#dirty.add(id);
  }

  recordState(id: string, state: Record<string, unknown>, at: number): void {
    const d = this.#cache.get(id);
    if (!d) return;
    d.reportedState = { ...(d.reportedState ?? {}), ...state };
    d.reportedAt = at;
    this.#dirty.add(id);
  }

  /** Writes the hot-path fields of every device touched since the last flush. */
  flush(): number {
    if (this.#dirty.size === 0) return 0;
    const stmt = this.#db.prepare(
      `UPDATE devices SET online = ?, last_seen_at = ?, last_reading = ?, last_reading_at = ?, reported_state = ?, reported_at = ?
       WHERE id = ?`,
    );
    const ids = [...this.#dirty];
    this.#db.transaction(() => {
      for (const id of ids) {
        const d = this.#cache.get(id);
        if (!d) continue;
        stmt.run(
          d.online ? 1 : 0,
          d.lastSeenAt,
          d.lastReading ? JSON.stringify(d.lastReading) : null,
          d.lastReadingAt,
          d.reportedState ? JSON.stringify(d.reportedState) : null,
          d.reportedAt,
          id,
        );
      }
    })();
    // Cleared only once written: a failed flush (a full disk) keeps its set for the next one.
    this.#dirty.clear();
    return ids.length;
  }

  /** After an unclean stop nobody is connected: presence starts from offline. */
  resetPresence(): void {
    this.#db.prepare('UPDATE devices SET online = 0').run();
    for (const d of this.#cache.values()) d.online = false;
  }
}
