import type { Db } from './db.ts';

export interface AuditEntry {
  id: number;
  at: number;
  actor: string;
  action: string;
  /** What the action was done to: a device id, a token id, … */
  subject: string;
  detail: unknown;
}

export interface AuditFilter {
  subject?: string;
  actor?: string;
  action?: string;
  /** Inclusive bounds on `at`, epoch milliseconds. */
  since?: number;
  until?: number;
  /** Entries older than this id (the cursor of the previous page). */
  beforeId?: number;
  limit: number;
}

export interface AuditPage {
  entries: AuditEntry[];
  total: number;
  more: boolean;
}

/**
 * Who did what to which device or token, newest first: AuditLog on SQLite, PgAuditLog on
 * PostgreSQL. record() does not wait (PostgreSQL writes behind, in order); list() sees every
 * entry recorded before it was called.
 */
export interface AuditStore {
  record(at: number, actor: string, action: string, subject: string, detail?: unknown): void;
  /** A page of entries, the number matching the filter, and whether older ones follow the page. */
  list(filter: AuditFilter): Promise<AuditPage>;
}

/** An audit row as both databases return it (`detail` is JSON text). */
export type AuditRowRead = Omit<AuditEntry, 'detail'> & { detail: string | null };

/**
 * The audit list's two statements for a filter: the count of matching entries, and the page
 * (newest first, one more than the limit to tell whether there are more). `placeholder(n)` is the
 * database's n-th parameter (`?` or `$n`).
 */
export function auditListSql(f: AuditFilter, placeholder: (n: number) => string) {
  const where: string[] = [];
  const args: Array<string | number> = [];
  const add = (column: string, op: string, value: string | number | undefined) => {
    if (value === undefined) return;
    args.push(value);
    where.push(`${column} ${op} ${placeholder(args.length)}`);
  };
  add('subject', '=', f.subject);
  add('actor', '=', f.actor);
  add('action', '=', f.action);
  add('at', '>=', f.since);
  add('at', '<=', f.until);
  const clause = () => (where.length ? `WHERE ${where.join(' AND ')}` : '');
  const count = { sql: `SELECT count(*) AS total FROM audit ${clause()}`, args: [...args] };
  add('id', '<', f.beforeId);
  args.push(f.limit + 1);
  const page = {
    sql: `SELECT id, at, actor, action, subject, detail FROM audit ${clause()} ORDER BY id DESC LIMIT ${placeholder(args.length)}`,
    args,
  };
  return { count, page };
}

export const auditPage = (rows: readonly AuditRowRead[], limit: number, total: number): AuditPage => ({
  more: rows.length > limit,
  entries: rows
    .slice(0, limit)
    .map((r) => ({ ...r, detail: r.detail === null ? null : JSON.parse(r.detail) })),
  total,
});

export class AuditLog implements AuditStore {
  readonly #db: Db;
  readonly #insert;

  constructor(db: Db) {
    this.#db = db;
    this.#insert = db.prepare(
      'INSERT INTO audit (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)',
    );
  }

  record(at: number, actor: string, action: string, subject: string, detail?: unknown): void {
    this.#insert.run(at, actor, action, subject, detail === undefined ? null : JSON.stringify(detail));
  }

  async list(filter: AuditFilter): Promise<AuditPage> {
    const { count, page } = auditListSql(filter, () => '?');
    const { total } = this.#db.prepare(count.sql).get(...count.args) as { total: number };
    return auditPage(this.#db.prepare(page.sql).all(...page.args) as AuditRowRead[], filter.limit, total);
  }
}
