import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTransaction, openPgRegistry, type PgPool, pgMigrations } from '../device-registry/pg/pg-db.ts';
import { createTestDatabase, type TestDatabase } from './helpers/pg.ts';

describe('PostgreSQL registry database', () => {
  let db: TestDatabase;
  let pool: PgPool;
  beforeAll(async () => {
    db = await createTestDatabase('pgdb');
  });
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  it('applies every migration once, even when nodes start together', async () => {
    const pools = await Promise.all([openPgRegistry(db.url), openPgRegistry(db.url), openPgRegistry(db.url)]);
    pool = pools[0];
    for (const p of pools.slice(1)) await p.end();
    const { rows } = await pool.query('SELECT version FROM schema_migrations ORDER BY version');
    expect(rows.map((r) => r.version)).toEqual(pgMigrations().map((m) => m.version));
    expect(new Set(rows.map((r) => r.version)).size).toBe(rows.length);
  });

  it('rolls a transaction back when its body throws, and reads BIGINT as numbers', async () => {
    await pool.query('CREATE TABLE t (id INTEGER PRIMARY KEY, at BIGINT NOT NULL)');
    await expect(
      inTransaction(pool, async (c) => {
        await c.query('INSERT INTO t VALUES (1, $1)', [Date.now()]);
        throw new Error('no');
      }),
    ).rejects.toThrow('no');
    expect((await pool.query('SELECT count(*)::int AS n FROM t')).rows[0].n).toBe(0);
    const at = 1_764_000_000_123;
    await inTransaction(pool, (c) => c.query('INSERT INTO t VALUES (2, $1)', [at]));
    expect((await pool.query('SELECT at FROM t')).rows[0].at).toBe(at);
  });
});
