import { findFirmware, type ModelSpec } from '../firmware-specs/define-device.ts';
import type { Family } from '../firmware-specs/families.ts';
import type { Db } from './db.ts';
import {
  DeviceExistsError,
  DeviceNotFoundError,
  FirmwareUnsupportedError,
  ModbusConfigError,
  ModelNotFoundError,
  ScryptQueueFullError,
} from './errors.ts';
import {
  DEFAULT_SCRYPT_COST,
  generateSecret,
  hashSecret,
  ScryptQueue,
  unmatchableHash,
  VerifiedSecrets,
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
  limit?: number;
  offset?: number;
}

export const CREDENTIAL_RESULTS = {
  ok: 'ok',
  unknown: 'unknown',
  bad: 'bad',
  disabled: 'disabled',
  noSecret: 'noSecret',
  /** The scrypt queue was full: nothing was checked. */
  busy: 'busy',
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
  };
}

/**
 * Devices and their credentials. Reads are served from memory; the hot path (last reading,
 * presence) is written behind, in one transaction per flush, not one per reading.
 */
export class DeviceStore {
  readonly #db: Db;
  readonly #specs: ReadonlyMap<string, ModelSpec>;
  readonly #cache = new Map<string, Device>();
  readonly #secretHashes = new Map<string, string | null>();
  readonly #verified = new VerifiedSecrets();
  readonly #dirty = new Set<string>();
  readonly #secretCost: number;
  readonly #scrypt: ScryptQueue;
  readonly #unmatchable: string;
  readonly #listeners: Array<(device: Device, change: 'registered' | 'enabled' | 'disabled') => void> = [];

  constructor(
    db: Db,
    specs: ReadonlyMap<string, ModelSpec>,
    opts: { secretCost?: number; scryptQueue?: number } = {},
  ) {
    this.#db = db;
    this.#specs = specs;
    this.#secretCost = opts.secretCost ?? DEFAULT_SCRYPT_COST;
    this.#scrypt = new ScryptQueue({ limit: opts.scryptQueue });
    this.#unmatchable = unmatchableHash(this.#secretCost);
    for (const row of db.prepare('SELECT * FROM devices').all() as Row[]) {
      this.#cache.set(row.id, fromRow(row));
      this.#secretHashes.set(row.id, row.secret_hash);
    }
  }

  /** Registers a device; the MQTT secret is returned once and kept only as a hash. */
  async register(input: NewDevice, now: number): Promise<{ device: Device; secret: string | null }> {
    const spec = this.#specs.get(input.model);
    if (!spec) throw new ModelNotFoundError(input.model);
    if (!findFirmware(spec, input.firmware)) {
      throw new FirmwareUnsupportedError(input.model, input.firmware, Object.keys(spec.firmware).join(', '));
    }
    if (spec.modbus && !input.modbus)
      throw new ModbusConfigError(
        `model ${input.model} is a Modbus device: modbus {host, port, unitId} is required`,
      );
    if (!spec.modbus && input.modbus)
      throw new ModbusConfigError(`model ${input.model} is not a Modbus device: modbus must be absent`);
    if (this.#cache.has(input.id)) throw new DeviceExistsError(input.id);
    const secret = spec.modbus ? null : generateSecret();
    const secretHash = secret ? await hashSecret(secret, this.#secretCost) : null;
    if (this.#cache.has(input.id)) throw new DeviceExistsError(input.id); // raced during the hash
    const device = newDevice(input, spec.family, now);
    this.#db
      .prepare(
        `INSERT INTO devices (id, model, family, firmware, district, ward, lat, lon, tags, enabled, secret_hash, modbus, created_at)
         VALUES (@id, @model, @family, @firmware, @district, @ward, @lat, @lon, @tags, 1, @secretHash, @modbus, @createdAt)`,
      )
      .run({
        ...device,
        tags: JSON.stringify(device.tags),
        modbus: device.modbus ? JSON.stringify(device.modbus) : null,
        secretHash,
      });
    this.#cache.set(device.id, device);
    this.#secretHashes.set(device.id, secretHash);
    this.#emit(device, 'registered');
    return { device, secret };
  }

  /** Adapters and the command service follow registrations and enable/disable. */
  onChange(fn: (device: Device, change: 'registered' | 'enabled' | 'disabled') => void): void {
    this.#listeners.push(fn);
  }

  #emit(device: Device, change: 'registered' | 'enabled' | 'disabled'): void {
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
    const out: Device[] = [];
    for (const d of this.#cache.values()) {
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
    const d = this.require(id);
    this.#db.prepare('UPDATE devices SET enabled = ? WHERE id = ?').run(enabled ? 1 : 0, id);
    d.enabled = enabled;
    if (!enabled) this.#verified.forget(id);
    this.#emit(d, enabled ? 'enabled' : 'disabled');
    return d;
  }

  /**
   * The device now runs another firmware (an OTA update, or an engineer's correction): the
   * ingest reads its next payload with that firmware's layout. Audited with who asked.
   */
  setFirmware(id: string, firmware: string, actor: string, now = Date.now()): Device {
    const d = this.require(id);
    const spec = this.#specs.get(d.model);
    if (!spec || !findFirmware(spec, firmware))
      throw new FirmwareUnsupportedError(
        d.model,
        firmware,
        spec ? Object.keys(spec.firmware).join(', ') : 'none',
      );
    const from = d.firmware;
    this.#db.transaction(() => {
      this.#db.prepare('UPDATE devices SET firmware = ? WHERE id = ?').run(firmware, id);
      this.#db
        .prepare('INSERT INTO audit (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)')
        .run(now, actor, 'device.firmware', id, JSON.stringify({ from, to: firmware }));
    })();
    d.firmware = firmware;
    return d;
  }

  /** The secret was verified before in this process: checking it again costs no scrypt. */
  hasVerified(id: string, secret: string): boolean {
    return this.#verified.has(id, secret);
  }

  /**
   * Unknown ids and ids without a secret run the same scrypt, through the same queue, as a known
   * id with a wrong secret: the refusal takes as long either way, so ids cannot be enumerated.
   */
  async verifyCredentials(
    id: string,
    secret: string,
    opts: { suspect?: boolean; burst?: boolean; cancelled?: () => boolean } = {},
  ): Promise<CredentialResult> {
    const d = this.#cache.get(id);
    const hash = d ? this.#secretHashes.get(id) : undefined;
    if (!d || !hash || !this.#verified.has(id, secret)) {
      let match: boolean;
      try {
        match = await this.#scrypt.run(() => verifySecret(secret, hash ?? this.#unmatchable), opts);
      } catch (err) {
        if (err instanceof ScryptQueueFullError) return 'busy';
        throw err;
      }
      if (!d) return 'unknown';
      if (!hash) return 'noSecret';
      if (!match) return 'bad';
      this.#verified.remember(id, secret);
    }
    return d.enabled ? 'ok' : 'disabled';
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
