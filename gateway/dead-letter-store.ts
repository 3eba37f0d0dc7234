import type Database from 'better-sqlite3';
import { evictionCutoff } from './evict-oldest.ts';

export interface DeadLetter {
  id: number;
  at: number;
  line: string;
  reason: string;
}

/** The `at` integer and the row's own overhead, roughly. */
const ROW_OVERHEAD = 24;
const rowBytes = (line: string, reason: string) =>
  Buffer.byteLength(line) + Buffer.byteLength(reason) + ROW_OVERHEAD;
const ROW_BYTES_SQL = `length(CAST(line AS BLOB)) + length(CAST(reason AS BLOB)) + ${ROW_OVERHEAD}`;

/**
 * Lines the database refused as malformed, in the outbox database. Counted in the disk bound and
 * kept under their own cap (the quarantine's): a device whose readings pass our schemas but not
 * the database's could otherwise fill the disk through here.
 */
export class DeadLetterStore {
  readonly #db: Database.Database;
  readonly #maxBytes: number;
  readonly #insert;
  readonly #oldest;
  readonly #evictUpTo;
  #bytes: number;
  #count: number;

  constructor(db: Database.Database, opts: { maxBytes: number }) {
    this.#db = db;
    this.#maxBytes = opts.maxBytes;
    db.exec(`CREATE TABLE IF NOT EXISTS dead_letters (
      id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, line TEXT NOT NULL, reason TEXT NOT NULL)`);
    this.#insert = db.prepare('INSERT INTO dead_letters (at, line, reason) VALUES (?, ?, ?)');
    this.#oldest = db.prepare(`SELECT id, ${ROW_BYTES_SQL} AS bytes FROM dead_letters ORDER BY id`);
    this.#evictUpTo = db.prepare(
      `DELETE FROM dead_letters WHERE id <= ? RETURNING ${ROW_BYTES_SQL} AS bytes`,
    );
    const stats = db
      .prepare(`SELECT count(*) AS n, coalesce(sum(${ROW_BYTES_SQL}), 0) AS b FROM dead_letters`)
      .get() as { n: number; b: number };
    this.#bytes = stats.b;
    this.#count = stats.n;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Within the caller's transaction; returns how many older dead letters were evicted. */
  insert(rejected: ReadonlyArray<{ line: string; reason: string }>, at: number): number {
    for (const r of rejected) {
      this.#insert.run(at, r.line, r.reason);
      this.#bytes += rowBytes(r.line, r.reason);
    }
    this.#count += rejected.length;
    const excess = this.#bytes - this.#maxBytes;
    if (excess <= 0) return 0;
    // The oldest, just enough of them to be within the cap again.
    const upTo = evictionCutoff(this.#oldest, excess);
    const gone = this.#evictUpTo.all(upTo) as Array<{ bytes: number }>;
    for (const g of gone) this.#bytes -= g.bytes;
    this.#count -= gone.length;
    return gone.length;
  }

  /** Newest first; `beforeId` is the cursor of the next page. */
  list(opts: { limit: number; beforeId?: number }): DeadLetter[] {
    return this.#db
      .prepare(
        `SELECT id, at, line, reason FROM dead_letters ${opts.beforeId ? 'WHERE id < ?' : ''} ORDER BY id DESC LIMIT ?`,
      )
      .all(...(opts.beforeId ? [opts.beforeId] : []), opts.limit) as DeadLetter[];
  }

  count(): number {
    return this.#count;
  }
}
