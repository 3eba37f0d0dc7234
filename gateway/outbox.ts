import Database from 'better-sqlite3';
import type { Reason } from './ingest/normalizer.ts';

export interface QuarantineEntry {
  deviceId: string;
  topic: string;
  payload: Buffer;
  reasons: Reason[];
  receivedAt: number;
}

export interface QuarantineRow {
  id: number;
  deviceId: string;
  topic: string;
  payload: string;
  payloadEncoding: 'utf8' | 'base64';
  reasons: Reason[];
  receivedAt: number;
}

export interface OutboxBatch {
  lastSeq: number;
  lines: string[];
  bytes: number;
}

/**
 * The outbox (docs/design.md, "Storage"): accepted readings as line protocol in their own SQLite
 * file, written in group-commit transactions, deleted only after the sink's server acknowledged
 * them. The quarantine lives here too, so a rejected reading is committed in the same
 * transaction as its accepted neighbours, before the PUBACK.
 */
export class Outbox {
  readonly #db: Database.Database;
  readonly #insertLine;
  readonly #insertQuarantine;
  readonly #readBatch;
  readonly #deleteUpTo;
  #bytes: number;
  #count: number;

  constructor(file: string, opts: { synchronous?: 'FULL' | 'NORMAL' } = {}) {
    this.#db = new Database(file);
    this.#db.pragma('journal_mode = WAL');
    // FULL: fsync per commit, so an acknowledged reading survives a power cut, not just a crash.
    this.#db.pragma(`synchronous = ${opts.synchronous ?? 'FULL'}`);
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS lines (seq INTEGER PRIMARY KEY AUTOINCREMENT, line TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS quarantine (
        id INTEGER PRIMARY KEY AUTOINCREMENT, received_at INTEGER NOT NULL, device_id TEXT NOT NULL,
        topic TEXT NOT NULL, payload BLOB NOT NULL, reasons TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS quarantine_device ON quarantine (device_id, id);
    `);
    this.#insertLine = this.#db.prepare('INSERT INTO lines (line) VALUES (?)');
    this.#insertQuarantine = this.#db.prepare(
      'INSERT INTO quarantine (received_at, device_id, topic, payload, reasons) VALUES (?, ?, ?, ?, ?)',
    );
    this.#readBatch = this.#db.prepare('SELECT seq, line FROM lines WHERE seq > ? ORDER BY seq LIMIT ?');
    this.#deleteUpTo = this.#db.prepare('DELETE FROM lines WHERE seq <= ?');
    const stats = this.#db
      .prepare('SELECT count(*) AS n, coalesce(sum(length(line)), 0) AS bytes FROM lines')
      .get() as {
      n: number;
      bytes: number;
    };
    this.#count = stats.n;
    this.#bytes = stats.bytes;
  }

  /** Bytes of line protocol waiting for the sink. */
  get bytes(): number {
    return this.#bytes;
  }

  get pending(): number {
    return this.#count;
  }

  /** One transaction for everything a tick accepted and rejected. */
  commit(lines: readonly string[], quarantined: readonly QuarantineEntry[]): void {
    let bytes = 0;
    this.#db.transaction(() => {
      for (const line of lines) {
        this.#insertLine.run(line);
        bytes += line.length;
      }
      for (const q of quarantined) {
        this.#insertQuarantine.run(q.receivedAt, q.deviceId, q.topic, q.payload, JSON.stringify(q.reasons));
      }
    })();
    this.#bytes += bytes;
    this.#count += lines.length;
  }

  /** The oldest waiting lines, after `afterSeq` (the sink's cursor). */
  peek(maxLines: number, afterSeq = 0): OutboxBatch | null {
    const rows = this.#readBatch.all(afterSeq, maxLines) as Array<{ seq: number; line: string }>;
    if (rows.length === 0) return null;
    let bytes = 0;
    const lines = rows.map((r) => {
      bytes += r.line.length;
      return r.line;
    });
    return { lastSeq: rows.at(-1)!.seq, lines, bytes };
  }

  /** Called only after the database acknowledged the batch. */
  acknowledge(batch: OutboxBatch): void {
    const { changes } = this.#deleteUpTo.run(batch.lastSeq);
    this.#count -= changes;
    this.#bytes = Math.max(0, this.#bytes - batch.bytes);
  }

  quarantine(opts: { deviceId?: string; limit?: number; beforeId?: number } = {}): QuarantineRow[] {
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
    const sql = `SELECT id, received_at, device_id, topic, payload, reasons FROM quarantine ${
      where.length ? `WHERE ${where.join(' AND ')}` : ''
    } ORDER BY id DESC LIMIT ?`;
    const rows = this.#db.prepare(sql).all(...args, opts.limit ?? 100) as Array<{
      id: number;
      received_at: number;
      device_id: string;
      topic: string;
      payload: Buffer;
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
        reasons: JSON.parse(r.reasons),
        receivedAt: r.received_at,
      };
    });
  }

  quarantineCount(): number {
    return (this.#db.prepare('SELECT count(*) AS n FROM quarantine').get() as { n: number }).n;
  }

  close(): void {
    this.#db.close();
  }
}
