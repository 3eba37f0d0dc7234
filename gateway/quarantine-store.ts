import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import { evictionCutoff } from './evict-oldest.ts';
import type { Reason } from './ingest/rejection.ts';

/** A refused payload on its way to the quarantine, already cut to what is kept. */
export interface QuarantineEntry {
  deviceId: string;
  topic: string;
  /** The payload's first bytes (QUARANTINE_MAX_RAW_BYTES). */
  payload: Buffer;
  /** Size and sha256 of the whole payload as it came. */
  size: number;
  sha256: string;
  reasons: Reason[];
  receivedAt: number;
  /** What the row holds on disk, counted in the outbox's disk bound. */
  bytes: number;
}

export interface QuarantineRow {
  id: number;
  deviceId: string;
  topic: string;
  payload: string;
  payloadEncoding: 'utf8' | 'base64';
  /** Size of the whole payload; `payload` holds its first bytes only when `truncated`. */
  size: number;
  truncated: boolean;
  /** Of the whole payload; null for entries kept before it was recorded. */
  sha256: string | null;
  reasons: Reason[];
  receivedAt: number;
}

export interface QuarantineLimits {
  /** Bytes of a payload kept; the rest is known by its size and sha256. */
  maxRawBytes: number;
  /** Entries per device; past it the device's oldest go. */
  maxPerDevice: number;
  /** Bytes of the whole quarantine; past it the oldest go, whoever sent them. */
  maxBytes: number;
}

export const DEFAULT_QUARANTINE_LIMITS: QuarantineLimits = {
  maxRawBytes: 4096,
  maxPerDevice: 1000,
  maxBytes: 256 * 1024 ** 2,
};

/** Two integers, the sha256 in hex and the row's own overhead, roughly. */
const ROW_OVERHEAD = 88;

/** Cuts a refused payload to what the quarantine keeps; the sha256 still names the whole. */
export function quarantineEntry(
  input: { deviceId: string; topic: string; payload: Buffer; reasons: Reason[]; receivedAt: number },
  maxRawBytes: number,
): QuarantineEntry {
  const payload = input.payload.length > maxRawBytes ? input.payload.subarray(0, maxRawBytes) : input.payload;
  return {
    ...input,
    payload,
    size: input.payload.length,
    sha256: createHash('sha256').update(input.payload).digest('hex'),
    bytes:
      payload.length +
      Buffer.byteLength(input.topic) +
      Buffer.byteLength(input.deviceId) +
      Buffer.byteLength(JSON.stringify(input.reasons)) +
      ROW_OVERHEAD,
  };
}

/**
 * The quarantine table of the outbox database, bounded per device and as a whole. Eviction runs
 * only when an insert passes a bound, inside the caller's transaction.
 */
export class QuarantineStore {
  readonly #db: Database.Database;
  readonly #limits: QuarantineLimits;
  readonly #insert;
  readonly #evictDevice;
  readonly #oldest;
  readonly #evictUpTo;
  /** Entries per device, so the quota costs no query on the insert path. */
  readonly #perDevice = new Map<string, number>();
  #bytes = 0;

  constructor(db: Database.Database, limits: QuarantineLimits) {
    this.#db = db;
    this.#limits = limits;
    db.exec(`
      CREATE TABLE IF NOT EXISTS quarantine (
        id INTEGER PRIMARY KEY AUTOINCREMENT, received_at INTEGER NOT NULL, device_id TEXT NOT NULL,
        topic TEXT NOT NULL, payload BLOB NOT NULL, reasons TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS quarantine_device ON quarantine (device_id, id);
    `);
    const columns = new Set(
      (db.pragma('table_info(quarantine)') as Array<{ name: string }>).map((c) => c.name),
    );
    if (!columns.has('bytes')) {
      // Entries kept before the bounds: measured once, so the disk bound counts them too.
      db.exec(`
        ALTER TABLE quarantine ADD COLUMN size INTEGER;
        ALTER TABLE quarantine ADD COLUMN sha256 TEXT;
        ALTER TABLE quarantine ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;
        UPDATE quarantine SET bytes = length(payload) + length(CAST(reasons AS BLOB))
          + length(CAST(topic AS BLOB)) + length(CAST(device_id AS BLOB)) + ${ROW_OVERHEAD};
      `);
    }
    this.#insert = db.prepare(
      'INSERT INTO quarantine (received_at, device_id, topic, payload, reasons, size, sha256, bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.#evictDevice = db.prepare(
      'DELETE FROM quarantine WHERE id IN (SELECT id FROM quarantine WHERE device_id = ? ORDER BY id LIMIT ?) RETURNING bytes',
    );
    this.#oldest = db.prepare('SELECT id, bytes FROM quarantine ORDER BY id');
    this.#evictUpTo = db.prepare('DELETE FROM quarantine WHERE id <= ? RETURNING device_id, bytes');
    for (const r of db
      .prepare('SELECT device_id, count(*) AS n FROM quarantine GROUP BY device_id')
      .all() as Array<{
      device_id: string;
      n: number;
    }>)
      this.#perDevice.set(r.device_id, r.n);
    this.#bytes = (
      db.prepare('SELECT coalesce(sum(bytes), 0) AS b FROM quarantine').get() as { b: number }
    ).b;
  }

  /** Bytes the quarantine's rows hold. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Inserts within the caller's transaction; returns how many older entries were evicted. */
  insert(entries: readonly QuarantineEntry[]): number {
    let evicted = 0;
    for (const q of entries) {
      const n = this.#perDevice.get(q.deviceId) ?? 0;
      if (n >= this.#limits.maxPerDevice) {
        const gone = this.#evictDevice.all(q.deviceId, n - this.#limits.maxPerDevice + 1) as Array<{
          bytes: number;
        }>;
        for (const g of gone) this.#bytes -= g.bytes;
        this.#perDevice.set(q.deviceId, n - gone.length);
        evicted += gone.length;
      }
      this.#insert.run(
        q.receivedAt,
        q.deviceId,
        q.topic,
        q.payload,
        JSON.stringify(q.reasons),
        q.size,
        q.sha256,
        q.bytes,
      );
      this.#perDevice.set(q.deviceId, (this.#perDevice.get(q.deviceId) ?? 0) + 1);
      this.#bytes += q.bytes;
    }
    return evicted + this.evictPastBound();
  }

  /** The oldest entries, just enough of them to bring the quarantine within its bound. */
  evictPastBound(): number {
    const excess = this.#bytes - this.#limits.maxBytes;
    if (excess <= 0) return 0;
    const upTo = evictionCutoff(this.#oldest, excess);
    const gone = this.#evictUpTo.all(upTo) as Array<{ device_id: string; bytes: number }>;
    for (const g of gone) {
      this.#bytes -= g.bytes;
      const left = (this.#perDevice.get(g.device_id) ?? 1) - 1;
      if (left > 0) this.#perDevice.set(g.device_id, left);
      else this.#perDevice.delete(g.device_id);
    }
    return gone.length;
  }

  /** Newest first; `beforeId` is the cursor of the next page. Reads at most maxRawBytes per row. */
  list(opts: { deviceId?: string; limit: number; beforeId?: number }): QuarantineRow[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (opts.deviceId) {
      where.push('device_id = ?');
      args.push(opts.deviceId);
    }
    if (opts.beforeId) {
      where.push('id < ?');
      args.push(opts.beforeId);
    }
    // substr() of a zero-length blob is NULL in SQLite: an empty payload reads back as x''.
    const sql = `SELECT id, received_at, device_id, topic, coalesce(substr(payload, 1, ?), x'') AS payload,
        coalesce(size, length(payload)) AS size, sha256, reasons FROM quarantine
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    const rows = this.#db.prepare(sql).all(this.#limits.maxRawBytes, ...args, opts.limit) as Array<{
      id: number;
      received_at: number;
      device_id: string;
      topic: string;
      payload: Buffer;
      size: number;
      sha256: string | null;
      reasons: string;
    }>;
    return rows.map((r) => {
      const text = r.payload.toString('utf8');
      const isText = Buffer.from(text, 'utf8').equals(r.payload);
      return {
        id: r.id,
        deviceId: r.device_id,
        topic: r.topic,
        payload: isText ? text : r.payload.toString('base64'),
        payloadEncoding: isText ? 'utf8' : 'base64',
        size: r.size,
        truncated: r.payload.length < r.size,
        sha256: r.sha256,
        reasons: JSON.parse(r.reasons),
        receivedAt: r.received_at,
      };
    });
  }

  /** Entries kept, of one device or of all; from memory, so a big quarantine costs no scan. */
  count(deviceId?: string): number {
    if (deviceId !== undefined) return this.#perDevice.get(deviceId) ?? 0;
    let n = 0;
    for (const c of this.#perDevice.values()) n += c;
    return n;
  }
}
