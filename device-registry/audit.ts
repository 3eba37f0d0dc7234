import type { Db } from './db.ts';

export interface AuditEntry {
  at: number;
  actor: string;
  action: string;
  subject: string;
  detail: unknown;
}

export class AuditLog {
  readonly #insert;
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
    this.#insert = db.prepare(
      'INSERT INTO audit (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)',
    );
  }

  record(at: number, actor: string, action: string, subject: string, detail?: unknown): void {
    this.#insert.run(at, actor, action, subject, detail === undefined ? null : JSON.stringify(detail));
  }

  forSubject(subject: string, limit = 100): AuditEntry[] {
    return (
      this.#db
        .prepare(
          'SELECT at, actor, action, subject, detail FROM audit WHERE subject = ? ORDER BY id DESC LIMIT ?',
        )
        .all(subject, limit) as Array<Omit<AuditEntry, 'detail'> & { detail: string | null }>
    ).map((r) => ({ ...r, detail: r.detail ? JSON.parse(r.detail) : null }));
  }
}
