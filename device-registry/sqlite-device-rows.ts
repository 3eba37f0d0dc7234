import type { AuditStore } from './audit.ts';
import type { Db } from './db.ts';
import {
  type AuditRow,
  type DeviceRows,
  type FleetFields,
  fleetColumns,
  fromRow,
  hotValues,
  NEW_DEVICE_COLUMNS,
  newDeviceValues,
  type Row,
  type StoredDevice,
  Taken,
  type Written,
} from './device-rows.ts';
import type { Device } from './device-types.ts';

const INSERT = `INSERT INTO devices (${NEW_DEVICE_COLUMNS.join(', ')})
  VALUES (${NEW_DEVICE_COLUMNS.map(() => '?').join(', ')}) ON CONFLICT (id) DO NOTHING`;

/**
 * The single-process registry: one SQLite file that only this process writes, so the in-memory
 * cache is the truth and the writes are synchronous under their Promise.
 */
export class SqliteDeviceRows implements DeviceRows {
  readonly shared = false;
  readonly #db: Db;
  readonly #audit: AuditStore;

  /** `audit` must write to the same database, so that a change and its entry commit together. */
  constructor(db: Db, audit: AuditStore) {
    this.#db = db;
    this.#audit = audit;
  }

  async loadAll(): Promise<StoredDevice[]> {
    return (this.#db.prepare('SELECT * FROM devices').all() as Row[]).map(fromRow);
  }

  async loadMany(ids: readonly string[]): Promise<StoredDevice[]> {
    const stmt = this.#db.prepare('SELECT * FROM devices WHERE id = ?');
    return ids.flatMap((id) => {
      const row = stmt.get(id) as Row | undefined;
      return row ? [fromRow(row)] : [];
    });
  }

  /** Nobody else writes this file: nothing changes behind the cache's back. */
  async changedSince(): Promise<StoredDevice[]> {
    return [];
  }

  async insert(
    rows: ReadonlyArray<{ device: Device; hash: string | null }>,
    opts: { allOrNothing: boolean; audit?: (device: Device) => AuditRow },
  ): Promise<Written[]> {
    const insert = this.#db.prepare(INSERT);
    const inserted: Written[] = [];
    const tx = this.#db.transaction(() => {
      for (const { device, hash } of rows) {
        if (insert.run(...newDeviceValues(device, hash)).changes === 0) {
          if (opts.allOrNothing) throw new Taken();
          continue;
        }
        inserted.push({ id: device.id, changedAt: 0 });
        if (opts.audit) this.#record(opts.audit(device));
      }
    });
    try {
      tx();
    } catch (err) {
      if (err instanceof Taken) return [];
      throw err;
    }
    return inserted;
  }

  async update(
    id: string,
    fields: FleetFields,
    audit: AuditRow[],
    opts: { ifSecretHash?: string } = {},
  ): Promise<Written | null> {
    const columns = fleetColumns(fields);
    const guard = opts.ifSecretHash === undefined ? '' : ' AND secret_hash = ?';
    const sql = `UPDATE devices SET ${columns.map(([c]) => `${c} = ?`).join(', ')} WHERE id = ?${guard}`;
    const args = [...columns.map(([, v]) => v), id, ...(guard ? [opts.ifSecretHash] : [])];
    return this.#db.transaction(() => {
      const changed = this.#db.prepare(sql).run(...args).changes > 0;
      if (!changed) return null;
      for (const a of audit) this.#record(a);
      return { id, changedAt: 0 };
    })();
  }

  async writeHot(devices: readonly Device[]): Promise<void> {
    const stmt = this.#db.prepare(
      `UPDATE devices SET online = @online, last_seen_at = @lastSeenAt, last_reading = @lastReading,
         last_reading_at = @lastReadingAt, reported_state = @reportedState, reported_at = @reportedAt
       WHERE id = @id`,
    );
    this.#db.transaction(() => {
      for (const d of devices) stmt.run({ id: d.id, ...hotValues(d) });
    })();
  }

  async resetPresence(): Promise<string[]> {
    const rows = this.#db.prepare('UPDATE devices SET online = 0 WHERE online = 1 RETURNING id').all();
    return (rows as Array<{ id: string }>).map((r) => r.id);
  }

  #record(a: AuditRow): void {
    this.#audit.record(a.at, a.actor, a.action, a.subject, a.detail);
  }
}
