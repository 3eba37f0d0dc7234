import { readdirSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { MigrationError } from '../errors.ts';

// Epoch milliseconds are BIGINT columns: read them as numbers (exact up to 2^53, year 287,396).
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export type PgPool = pg.Pool;
export type PgClient = pg.PoolClient;
/** Something queries can be sent to: the pool, or one client inside a transaction. */
export type PgQueryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;

const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);
/** pg_advisory_lock key held while migrating: nodes starting together migrate one after another. */
const MIGRATION_LOCK = 0x63697479; // "city"

/**
 * The PostgreSQL migrations, `migrations/NNN-topic.sql`, in number order. Each area of the
 * registry owns its files; a released file is never edited, only followed by another.
 */
export function pgMigrations(): Array<{ version: number; name: string; sql: string }> {
  return readdirSync(MIGRATIONS_DIR)
    .filter((f) => /^\d+-[\w-]+\.sql$/.test(f))
    .map((name) => ({
      version: Number.parseInt(name, 10),
      name,
      sql: readFileSync(new URL(name, MIGRATIONS_DIR), 'utf8'),
    }))
    .sort((a, b) => a.version - b.version);
}

/** Opens a pool on DATABASE_URL and applies the migrations not yet applied, one node at a time. */
export async function openPgRegistry(url: string, opts: { max?: number } = {}): Promise<PgPool> {
  const pool = new pg.Pool({ connectionString: url, max: opts.max ?? 10 });
  // An idle client losing its server must not become an uncaught 'error' event.
  pool.on('error', () => {});
  try {
    await migrate(pool);
  } catch (err) {
    await pool.end();
    throw err;
  }
  return pool;
}

async function migrate(pool: PgPool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)',
    );
    const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
    const applied = new Set(rows.map((r) => r.version));
    for (const m of pgMigrations()) {
      if (applied.has(m.version)) continue;
      try {
        await client.query('BEGIN');
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
          m.version,
          m.name,
          Date.now(),
        ]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw new MigrationError(m.version, (err as Error).message);
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {});
    client.release();
  }
}

/**
 * Runs `fn` in one transaction on one client: committed when it resolves, rolled back when it
 * throws. `SERIALIZABLE` where a check and a write must not interleave with another node's
 * (retried a few times on a serialization failure, 40001).
 */
export async function inTransaction<T>(
  pool: PgPool,
  fn: (client: PgClient) => Promise<T>,
  opts: { serializable?: boolean } = {},
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    try {
      await client.query(opts.serializable ? 'BEGIN ISOLATION LEVEL SERIALIZABLE' : 'BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      if ((err as { code?: string }).code === '40001' && attempt < 5) continue;
      throw err;
    } finally {
      client.release();
    }
  }
}
