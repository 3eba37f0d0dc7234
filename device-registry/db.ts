import Database from 'better-sqlite3';
import { MigrationError } from './errors.ts';
import { migrations } from './migrations.ts';

export type Db = Database.Database;

/** Opens the registry in WAL mode and applies the numbered migrations not yet applied. */
export function openRegistryDb(file: string): Db {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)',
  );
  const applied = new Set(
    db
      .prepare('SELECT version FROM schema_migrations')
      .all()
      .map((r) => (r as { version: number }).version),
  );
  for (const [version, sql] of migrations) {
    if (applied.has(version)) continue;
    try {
      db.transaction(() => {
        db.exec(sql);
        db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(
          version,
          Date.now(),
        );
      })();
    } catch (err) {
      throw new MigrationError(version, (err as Error).message);
    }
  }
  return db;
}
