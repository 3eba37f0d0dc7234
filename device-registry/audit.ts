import type { Db } from './db.ts';

export class AuditLog {
  readonly #insert;

  constructor(db: Db) {
    this.#insert = db.prepare(
      'INSERT INTO audit (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)',
    );
  }

  record(at: number, actor: string, action: string, subject: string, detail?: unknown): void {
    this.#insert.run(at, actor, action, subject, detail === undefined ? null : JSON.stringify(detail));
  }
}
