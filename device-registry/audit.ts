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

interface Row {
  id: number;
  at: number;
  actor: string;
  action: string;
  subject: string;
  detail: string | null;
}

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
    const where: string[] = [];
    const args: Record<string, string | number> = {};
    const add = (sql: string, key: string, value: string | number | undefined) => {
      if (value === undefined) return;
      where.push(sql);
      args[key] = value;
    };
    add('subject = @subject', 'subject', filter.subject);
    add('actor = @actor', 'actor', filter.actor);
    add('action = @action', 'action', filter.action);
    add('at >= @since', 'since', filter.since);
    add('at <= @until', 'until', filter.until);
    const matching = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const { total } = this.#db.prepare(`SELECT count(*) AS total FROM audit ${matching}`).get(args) as {
      total: number;
    };
    if (filter.beforeId !== undefined) where.push('id < @beforeId');
    const page = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const rows = this.#db.prepare(`SELECT * FROM audit ${page} ORDER BY id DESC LIMIT @limit`).all({
      ...args,
      ...(filter.beforeId !== undefined && { beforeId: filter.beforeId }),
      limit: filter.limit + 1,
    }) as Row[];
    return {
      more: rows.length > filter.limit,
      entries: rows
        .slice(0, filter.limit)
        .map((r) => ({ ...r, detail: r.detail === null ? null : JSON.parse(r.detail) })),
      total,
    };
  }
}
