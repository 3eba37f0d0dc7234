import Database from 'better-sqlite3';
import { probeWrite } from './disk-guard.ts';
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
  /** Line protocol, newline-separated. */
  text: string;
  /** Number of lines (readings). */
  count: number;
  /** Bytes these commits hold in the outbox. */
  bytes: number;
}

/**
 * The outbox (docs/design.md, "Storage"): accepted readings as line protocol in their own SQLite
 * file, one row per group commit (a row per reading cost a tenth of the gateway's time under
 * load), deleted only after the sink's server acknowledged them. The quarantine lives here too, so a rejected reading is committed in the same
 * transaction as its accepted neighbours, before the PUBACK.
 */
export class Outbox {
  readonly #db: Database.Database;
  readonly #insertLines;
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
      CREATE TABLE IF NOT EXISTS batches (seq INTEGER PRIMARY KEY AUTOINCREMENT, n INTEGER NOT NULL, lines TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS quarantine (
        id INTEGER PRIMARY KEY AUTOINCREMENT, received_at INTEGER NOT NULL, device_id TEXT NOT NULL,
        topic TEXT NOT NULL, payload BLOB NOT NULL, reasons TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS quarantine_device ON quarantine (device_id, id);
      CREATE TABLE IF NOT EXISTS dead_letters (
        id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, line TEXT NOT NULL, reason TEXT NOT NULL);
    `);
    this.#insertLines = this.#db.prepare('INSERT INTO batches (n, lines) VALUES (?, ?)');
    this.#insertQuarantine = this.#db.prepare(
      'INSERT INTO quarantine (received_at, device_id, topic, payload, reasons) VALUES (?, ?, ?, ?, ?)',
    );
    this.#readBatch = this.#db.prepare('SELECT seq, n, lines FROM batches ORDER BY seq');
    this.#deleteUpTo = this.#db.prepare('DELETE FROM batches WHERE seq <= ?');
    const stats = this.#db
      .prepare('SELECT coalesce(sum(n), 0) AS n, coalesce(sum(length(lines)), 0) AS bytes FROM batches')
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
    const text = lines.length ? lines.join('\n') : '';
    this.#db.transaction(() => {
      if (lines.length) this.#insertLines.run(lines.length, text);
      for (const q of quarantined) {
        this.#insertQuarantine.run(q.receivedAt, q.deviceId, q.topic, q.payload, JSON.stringify(q.reasons));
      }
    })();
    this.#bytes += text.length;
    this.#count += lines.length;
  }

  /** The oldest waiting readings: whole commits, about `maxLines` of them (at least one commit). */
  peek(maxLines: number): OutboxBatch | null {
    const texts: string[] = [];
    let count = 0;
    let lastSeq = 0;
    let bytes = 0;
    for (const row of this.#readBatch.iterate() as IterableIterator<{
      seq: number;
      n: number;
      lines: string;
    }>) {
      if (count > 0 && count + row.n > maxLines) break;
      texts.push(row.lines);
      count += row.n;
      bytes += row.lines.length;
      lastSeq = row.seq;
    }
    if (count === 0) return null;
    return { lastSeq, text: texts.join('\n'), count, bytes };
  }

  /** Called only after the database acknowledged the batch. */
  acknowledge(batch: OutboxBatch): void {
    this.#deleteUpTo.run(batch.lastSeq);
    this.#count -= batch.count;
    this.#bytes -= batch.bytes;
  }

  /**
   * The database refused these lines as malformed (a 4xx that retrying cannot cure): they are kept
   * here with the reason, and the batch leaves the outbox so the readings behind it can flow.
   */
  deadLetter(
    batch: OutboxBatch,
    rejected: ReadonlyArray<{ line: string; reason: string }>,
    at: number,
  ): void {
    const insert = this.#db.prepare('INSERT INTO dead_letters (at, line, reason) VALUES (?, ?, ?)');
    this.#db.transaction(() => {
      for (const r of rejected) insert.run(at, r.line, r.reason);
      this.acknowledge(batch);
    })();
  }

  deadLetters(limit = 100): Array<{ id: number; at: number; line: string; reason: string }> {
    return this.#db
      .prepare('SELECT id, at, line, reason FROM dead_letters ORDER BY id DESC LIMIT ?')
      .all(limit) as never;
  }

  deadLetterCount(): number {
    return (this.#db.prepare('SELECT count(*) AS n FROM dead_letters').get() as { n: number }).n;
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

  /** A write that changes nothing, to learn whether the disk has room again (see disk-guard.ts). */
  probe(): void {
    probeWrite(this.#db);
  }

  close(): void {
    this.#db.close();
  }
}
