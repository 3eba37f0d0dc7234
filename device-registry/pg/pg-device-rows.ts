import type { AuditRow, DeviceRows, FleetFields, Row, StoredDevice, Written } from '../device-rows.ts';
import {
  fleetColumns,
  fromRow,
  hotValues,
  NEW_DEVICE_COLUMNS,
  newDeviceValues,
  Taken,
} from '../device-rows.ts';
import type { Device } from '../device-types.ts';
import { insertAuditRows } from './pg-audit.ts';
import { inTransaction, type PgPool } from './pg-db.ts';

/** PostgreSQL's clock in epoch ms: every node compares changed_at against the same clock. */
const NOW_MS = '(extract(epoch from clock_timestamp()) * 1000)::bigint';
/** Rows per statement of an import or a flush: no statement holds many row locks for long. */
const ROWS_PER_STATEMENT = 5000;
const COLUMN_TYPES = [
  'text',
  'text',
  'text',
  'text',
  'text',
  'text',
  'float8',
  'float8',
  'text',
  'int',
  'text',
  'text',
  'int8',
];

/**
 * The cluster's registry: every node keeps all devices in memory and writes here; fleet changes
 * stamp changed_at, presence changes presence_at, so other nodes find what they missed.
 */
export class PgDeviceRows implements DeviceRows {
  readonly shared = true;
  readonly #pool: PgPool;

  constructor(pool: PgPool) {
    this.#pool = pool;
  }

  async loadAll(): Promise<StoredDevice[]> {
    const { rows } = await this.#pool.query<Row>('SELECT * FROM devices');
    return rows.map(fromRow);
  }

  async loadMany(ids: readonly string[]): Promise<StoredDevice[]> {
    const { rows } = await this.#pool.query<Row>('SELECT * FROM devices WHERE id = ANY($1::text[])', [ids]);
    return rows.map(fromRow);
  }

  async changedSince(changedAt: number, presenceAt: number): Promise<StoredDevice[]> {
    const { rows } = await this.#pool.query<Row>(
      'SELECT * FROM devices WHERE changed_at > $1 OR presence_at > $2',
      [changedAt, presenceAt],
    );
    return rows.map(fromRow);
  }

  async insert(
    rows: ReadonlyArray<{ device: Device; hash: string | null }>,
    opts: { allOrNothing: boolean; audit?: (device: Device) => AuditRow },
  ): Promise<Written[]> {
    const columns = [...NEW_DEVICE_COLUMNS, 'changed_at'].join(', ');
    const params = COLUMN_TYPES.map((t, i) => `$${i + 1}::${t}[]`).join(', ');
    const sql = `INSERT INTO devices (${columns})
      SELECT *, ${NOW_MS} FROM unnest(${params})
      ON CONFLICT (id) DO NOTHING RETURNING id, changed_at AS "changedAt"`;
    try {
      return await inTransaction(this.#pool, async (client) => {
        const inserted: Written[] = [];
        for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
          const batch = rows.slice(i, i + ROWS_PER_STATEMENT);
          const values = batch.map(({ device, hash }) => newDeviceValues(device, hash));
          const byColumn = COLUMN_TYPES.map((_, c) => values.map((v) => v[c]));
          const { rows: done } = await client.query<Written>(sql, byColumn);
          if (opts.allOrNothing && done.length < batch.length) throw new Taken();
          inserted.push(...done);
        }
        if (opts.audit) {
          const made = new Set(inserted.map((w) => w.id));
          const audit = opts.audit;
          await insertAuditRows(
            client,
            rows.filter((r) => made.has(r.device.id)).map((r) => audit(r.device)),
          );
        }
        return inserted;
      });
    } catch (err) {
      if (err instanceof Taken) return [];
      throw err;
    }
  }

  async update(
    id: string,
    fields: FleetFields,
    audit: AuditRow[],
    opts: { ifSecretHash?: string } = {},
  ): Promise<Written | null> {
    const columns = fleetColumns(fields);
    const set = columns.map(([c], i) => `${c} = $${i + 2}`);
    const args: unknown[] = [id, ...columns.map(([, v]) => v)];
    let guard = '';
    if (opts.ifSecretHash !== undefined) {
      args.push(opts.ifSecretHash);
      guard = ` AND secret_hash = $${args.length}`;
    }
    const sql = `UPDATE devices SET ${set.join(', ')}, changed_at = ${NOW_MS} WHERE id = $1${guard} RETURNING id, changed_at AS "changedAt"`;
    return inTransaction(this.#pool, async (client) => {
      const { rows } = await client.query<Written>(sql, args);
      if (rows.length === 0) return null;
      await insertAuditRows(client, audit);
      return rows[0];
    });
  }

  /**
   * A device marked online here is this node's; marked offline here, it stays online if another
   * node took it over meanwhile. A reading or state older than the stored one is not written
   * (the device moved, and the other node wrote a newer one).
   */
  async writeHot(devices: readonly Device[], nodeId: string): Promise<void> {
    for (let i = 0; i < devices.length; i += ROWS_PER_STATEMENT)
      await this.#writeHotBatch(devices.slice(i, i + ROWS_PER_STATEMENT), nodeId);
  }

  async #writeHotBatch(devices: readonly Device[], nodeId: string): Promise<void> {
    const hot = devices.map((d) => ({ id: d.id, ...hotValues(d) }));
    await this.#pool.query(
      `UPDATE devices d SET
         online = CASE WHEN u.online = 1 THEN 1
                       WHEN d.online_node IS NULL OR d.online_node = $8 THEN 0 ELSE d.online END,
         online_node = CASE WHEN u.online = 1 THEN $8 ELSE d.online_node END,
         presence_at = CASE WHEN (u.online = 1 AND (d.online = 0 OR d.online_node IS DISTINCT FROM $8))
                              OR (u.online = 0 AND d.online = 1 AND (d.online_node IS NULL OR d.online_node = $8))
                            THEN ${NOW_MS} ELSE d.presence_at END,
         last_seen_at = GREATEST(d.last_seen_at, u.last_seen_at),
         last_reading = CASE WHEN u.last_reading_at >= COALESCE(d.last_reading_at, 0)
                             THEN u.last_reading ELSE d.last_reading END,
         last_reading_at = GREATEST(d.last_reading_at, u.last_reading_at),
         reported_state = CASE WHEN u.reported_at >= COALESCE(d.reported_at, 0)
                               THEN u.reported_state ELSE d.reported_state END,
         reported_at = GREATEST(d.reported_at, u.reported_at)
       FROM unnest($1::text[], $2::int[], $3::int8[], $4::text[], $5::int8[], $6::text[], $7::int8[])
         AS u(id, online, last_seen_at, last_reading, last_reading_at, reported_state, reported_at)
       WHERE d.id = u.id`,
      [
        hot.map((h) => h.id),
        hot.map((h) => h.online),
        hot.map((h) => h.lastSeenAt),
        hot.map((h) => h.lastReading),
        hot.map((h) => h.lastReadingAt),
        hot.map((h) => h.reportedState),
        hot.map((h) => h.reportedAt),
        nodeId,
      ],
    );
  }

  async resetPresence(nodeId: string | null): Promise<string[]> {
    const { rows } = await this.#pool.query<{ id: string }>(
      `UPDATE devices SET online = 0, presence_at = ${NOW_MS}
       WHERE online = 1 AND ($1::text IS NULL OR online_node = $1) RETURNING id`,
      [nodeId],
    );
    return rows.map((r) => r.id);
  }
}
