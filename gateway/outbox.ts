import Database from 'better-sqlite3';
import { type DeadLetter, DeadLetterStore } from './dead-letter-store.ts';
import { probeWrite } from './disk-guard.ts';
import {
  DEFAULT_QUARANTINE_LIMITS,
  type QuarantineEntry,
  type QuarantineLimits,
  type QuarantineRow,
  QuarantineStore,
} from './quarantine-store.ts';

export type { QuarantineEntry, QuarantineRow } from './quarantine-store.ts';

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
 * transaction as its accepted neighbours, before the PUBACK. The quarantine and the dead letters
 * count in the disk bound (`diskBytes`) and are capped on their own (quarantine-store.ts).
 */
export class Outbox {
  readonly #db: Database.Database;
  readonly #insertLines;
  readonly #quarantine: QuarantineStore;
  readonly #deadLetters: DeadLetterStore;
  readonly #onEvict: (n: number, from: 'quarantine' | 'dead_letters') => void;
  readonly #readBatch;
  readonly #deleteUpTo;
  #bytes: number;
  #count: number;

  constructor(
    file: string,
    opts: {
      synchronous?: 'FULL' | 'NORMAL';
      quarantine?: QuarantineLimits;
      /** Entries the bounds pushed out, to count in metrics. */
      onEvict?: (n: number, from: 'quarantine' | 'dead_letters') => void;
    } = {},
  ) {
    this.#db = new Database(file);
    this.#db.pragma('journal_mode = WAL');
    // FULL: fsync per commit, so an acknowledged reading survives a power cut, not just a crash.
    this.#db.pragma(`synchronous = ${opts.synchronous ?? 'FULL'}`);
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS batches (seq INTEGER PRIMARY KEY AUTOINCREMENT, n INTEGER NOT NULL, lines TEXT NOT NULL);
    `);
    const limits = opts.quarantine ?? DEFAULT_QUARANTINE_LIMITS;
    this.#quarantine = new QuarantineStore(this.#db, limits);
    this.#deadLetters = new DeadLetterStore(this.#db, { maxBytes: limits.maxBytes });
    this.#onEvict = opts.onEvict ?? (() => {});
    // Entries kept before the bounds existed leave now, so an upgrade recovers the disk.
    const evicted = this.#db.transaction(() => this.#quarantine.evictPastBound())();
    if (evicted) this.#onEvict(evicted, 'quarantine');
    this.#insertLines = this.#db.prepare('INSERT INTO batches (n, lines) VALUES (?, ?)');
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

  /** What the outbox holds on disk, as counted against OUTBOX_MAX_BYTES: readings, quarantine, dead letters. */
  get diskBytes(): number {
    return this.#bytes + this.#quarantine.bytes + this.#deadLetters.bytes;
  }

  get pending(): number {
    return this.#count;
  }

  /** One transaction for everything a tick accepted and rejected. */
  commit(lines: readonly string[], quarantined: readonly QuarantineEntry[]): void {
    const text = lines.length ? lines.join('\n') : '';
    const evicted = this.#db.transaction(() => {
      if (lines.length) this.#insertLines.run(lines.length, text);
      return quarantined.length ? this.#quarantine.insert(quarantined) : 0;
    })();
    if (evicted) this.#onEvict(evicted, 'quarantine');
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
    const evicted = this.#db.transaction(() => {
      const n = this.#deadLetters.insert(rejected, at);
      this.acknowledge(batch);
      return n;
    })();
    if (evicted) this.#onEvict(evicted, 'dead_letters');
  }

  /** Newest first; `beforeId` is the cursor of the next page. */
  deadLetters(opts: { limit?: number; beforeId?: number } = {}): DeadLetter[] {
    return this.#deadLetters.list({ limit: opts.limit ?? 100, beforeId: opts.beforeId });
  }

  deadLetterCount(): number {
    return this.#deadLetters.count();
  }

  /** Newest first; `beforeId` is the cursor of the next page. */
  quarantine(opts: { deviceId?: string; limit?: number; beforeId?: number } = {}): QuarantineRow[] {
    return this.#quarantine.list({ ...opts, limit: opts.limit ?? 100 });
  }

  /** Entries kept, of one device or of all. */
  quarantineCount(deviceId?: string): number {
    return this.#quarantine.count(deviceId);
  }

  /** A write that changes nothing, to learn whether the disk has room again (see disk-guard.ts). */
  probe(): void {
    probeWrite(this.#db);
  }

  close(): void {
    this.#db.close();
  }
}
