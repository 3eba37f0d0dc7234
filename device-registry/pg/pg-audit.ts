import {
  type AuditFilter,
  type AuditPage,
  type AuditRowRead,
  type AuditStore,
  auditListSql,
  auditPage,
} from '../audit.ts';
import type { AuditRow } from '../device-rows.ts';
import { AuditWriteError } from '../errors.ts';
import type { PgPool, PgQueryable } from './pg-db.ts';

/** Entries per INSERT while catching up. */
const BATCH = 1000;
/** How long a failed write waits before it is tried again. */
const RETRY_MS = 1000;

/** Inserts audit entries in their order, in one statement (inside the caller's transaction). */
export async function insertAuditRows(db: PgQueryable, rows: readonly AuditRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db.query(
    `INSERT INTO audit (at, actor, action, subject, detail)
     SELECT at, actor, action, subject, detail
     FROM unnest($1::int8[], $2::text[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY
       AS u(at, actor, action, subject, detail, n)
     ORDER BY n`,
    [
      rows.map((r) => r.at),
      rows.map((r) => r.actor),
      rows.map((r) => r.action),
      rows.map((r) => r.subject),
      rows.map((r) => (r.detail === undefined ? null : JSON.stringify(r.detail))),
    ],
  );
}

/**
 * The audit trail on PostgreSQL. record() is called from synchronous code all over the gateway:
 * it queues the entry and the queue is written behind, in order, on the next turn; a failed write
 * is logged and retried, and list() and close() wait for what is queued.
 */
export class PgAuditLog implements AuditStore {
  readonly #pool: PgPool;
  readonly #onError: (err: unknown) => void;
  #queue: AuditRow[] = [];
  #writing: Promise<void> | null = null;
  #retry: NodeJS.Timeout | null = null;
  #lastError: unknown = null;

  constructor(pool: PgPool, opts: { onError?: (err: unknown) => void } = {}) {
    this.#pool = pool;
    this.#onError = opts.onError ?? (() => {});
  }

  record(at: number, actor: string, action: string, subject: string, detail?: unknown): void {
    this.#queue.push({ at, actor, action, subject, detail });
    if (!this.#writing && !this.#retry) this.#writing = this.#write();
  }

  /** Resolves once every entry recorded so far is written (or rejects with the write's error). */
  async flush(): Promise<void> {
    while (this.#queue.length > 0 || this.#writing) {
      if (this.#retry) {
        clearTimeout(this.#retry);
        this.#retry = null;
      }
      this.#writing ??= this.#write();
      await this.#writing;
      if (this.#queue.length > 0 && this.#retry)
        throw new AuditWriteError(
          this.#queue.length,
          (this.#lastError as Error)?.message ?? String(this.#lastError),
        );
    }
  }

  async close(): Promise<void> {
    await this.flush();
  }

  async #write(): Promise<void> {
    await Promise.resolve();
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.slice(0, BATCH);
        await insertAuditRows(this.#pool, batch);
        this.#queue.splice(0, batch.length);
      }
    } catch (err) {
      this.#lastError = err;
      this.#onError(err);
      this.#retry = setTimeout(() => {
        this.#retry = null;
        this.#writing ??= this.#write();
      }, RETRY_MS);
      this.#retry.unref();
    } finally {
      this.#writing = null;
    }
  }

  async list(filter: AuditFilter): Promise<AuditPage> {
    await this.flush();
    const { count, page } = auditListSql(filter, (n) => `$${n}`);
    const counted = await this.#pool.query<{ total: number }>(count.sql, count.args);
    const { rows } = await this.#pool.query<AuditRowRead>(page.sql, page.args);
    return auditPage(rows, filter.limit, counted.rows[0].total);
  }
}
