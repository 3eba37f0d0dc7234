import type { Family } from '../firmware-specs/families.ts';
import type { Device, DevicePatch } from './device-types.ts';

/**
 * Where DeviceStore keeps its rows: SQLite (one process) or PostgreSQL (a cluster). The store
 * holds every device in memory and decides; a DeviceRows only reads and writes rows, each change
 * with its audit entries in one transaction.
 */
export interface DeviceRows {
  /** Other nodes write the same rows (PostgreSQL): the store re-reads what they change. */
  readonly shared: boolean;
  loadAll(): Promise<StoredDevice[]>;
  loadMany(ids: readonly string[]): Promise<StoredDevice[]>;
  /** Rows whose fleet fields changed after `changedAt`, or whose presence changed after `presenceAt`. */
  changedSince(changedAt: number, presenceAt: number): Promise<StoredDevice[]>;
  /**
   * Inserts new devices and an audit entry for each one inserted; an id already taken (here or by
   * another node meanwhile) is skipped, or with `allOrNothing` nothing is inserted. Returns the
   * rows inserted, with their changed_at.
   */
  insert(
    rows: ReadonlyArray<{ device: Device; hash: string | null }>,
    opts: { allOrNothing: boolean; audit?: (device: Device) => AuditRow },
  ): Promise<Written[]>;
  /**
   * Writes fleet fields and the audit entries; null when the row is not there (or its secret hash
   * is not `ifSecretHash`).
   */
  update(
    id: string,
    fields: FleetFields,
    audit: AuditRow[],
    opts?: { ifSecretHash?: string },
  ): Promise<Written | null>;
  /** Presence, last reading and reported state; another node's newer values are not overwritten. */
  writeHot(devices: readonly Device[], nodeId: string): Promise<void>;
  /** Marks offline the devices this node (or, with null, any node) had online; returns their ids. */
  resetPresence(nodeId: string | null): Promise<string[]>;
}

/** A row as stored: the device, its credentials and (on PostgreSQL) what the cluster tracks. */
export interface StoredDevice {
  device: Device;
  secretHash: string | null;
  previous: { hash: string; until: number } | null;
  /** When its fleet fields last changed (PostgreSQL's clock); 0 on SQLite. */
  changedAt: number;
  presenceAt: number;
  /** The node that last marked it online. */
  onlineNode: string | null;
}

/** A row written, and its new changed_at (0 on SQLite). */
export interface Written {
  id: string;
  changedAt: number;
}

export interface AuditRow {
  at: number;
  actor: string;
  action: string;
  subject: string;
  detail?: unknown;
}

/** The columns a fleet operation changes (the hot-path ones are written by writeHot). */
export interface FleetFields extends DevicePatch {
  enabled?: boolean;
  secretHash?: string | null;
  previousSecretHash?: string | null;
  previousSecretUntil?: number | null;
  decommissionedAt?: number | null;
}

/** FleetFields as column names and stored values, in the order given. */
export function fleetColumns(fields: FleetFields): Array<[string, unknown]> {
  const column: Record<keyof FleetFields, string> = {
    firmware: 'firmware',
    district: 'district',
    ward: 'ward',
    lat: 'lat',
    lon: 'lon',
    tags: 'tags',
    enabled: 'enabled',
    secretHash: 'secret_hash',
    previousSecretHash: 'previous_secret_hash',
    previousSecretUntil: 'previous_secret_until',
    decommissionedAt: 'decommissioned_at',
  };
  return (Object.keys(fields) as Array<keyof FleetFields>)
    .filter((k) => fields[k] !== undefined)
    .map((k) => {
      const v = fields[k];
      return [column[k], k === 'tags' ? JSON.stringify(v) : k === 'enabled' ? (v ? 1 : 0) : v];
    });
}

/** A devices row, as both databases return it. */
export interface Row {
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
  online_node?: string | null;
  changed_at?: number | null;
  presence_at?: number | null;
}

export function fromRow(r: Row): StoredDevice {
  return {
    device: {
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
    },
    secretHash: r.secret_hash,
    previous:
      r.previous_secret_hash && r.previous_secret_until
        ? { hash: r.previous_secret_hash, until: r.previous_secret_until }
        : null,
    changedAt: r.changed_at ?? 0,
    presenceAt: r.presence_at ?? 0,
    onlineNode: r.online_node ?? null,
  };
}

/** The values of a new device's row, in the column order of NEW_DEVICE_COLUMNS. */
export const NEW_DEVICE_COLUMNS = [
  'id',
  'model',
  'family',
  'firmware',
  'district',
  'ward',
  'lat',
  'lon',
  'tags',
  'enabled',
  'secret_hash',
  'modbus',
  'created_at',
] as const;

export const newDeviceValues = (d: Device, hash: string | null) => [
  d.id,
  d.model,
  d.family,
  d.firmware,
  d.district,
  d.ward,
  d.lat,
  d.lon,
  JSON.stringify(d.tags),
  1,
  hash,
  d.modbus ? JSON.stringify(d.modbus) : null,
  d.createdAt,
];

/** The hot-path fields of a device as stored. */
export const hotValues = (d: Device) => ({
  online: d.online ? 1 : 0,
  lastSeenAt: d.lastSeenAt,
  lastReading: d.lastReading ? JSON.stringify(d.lastReading) : null,
  lastReadingAt: d.lastReadingAt,
  reportedState: d.reportedState ? JSON.stringify(d.reportedState) : null,
  reportedAt: d.reportedAt,
});

/** An id taken during an all-or-nothing import: thrown to roll the transaction back. */
export class Taken extends Error {}
