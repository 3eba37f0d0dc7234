import { expect, it } from 'vitest';
import { PgAuditLog } from '../device-registry/pg/pg-audit.ts';
import { openPgRegistry } from '../device-registry/pg/pg-db.ts';
import { auditStoreContract } from './audit-store-contract.ts';
import { createTestDatabase } from './helpers/pg.ts';

auditStoreContract('PostgreSQL', async () => {
  const db = await createTestDatabase('audit_store');
  const pool = await openPgRegistry(db.url);
  const store = new PgAuditLog(pool);
  return {
    store,
    async close() {
      await store.close();
      await pool.end();
      await db.drop();
    },
  };
});

it('writes behind in the order recorded; an entry recorded while the database is away is written once it is back', async () => {
  const db = await createTestDatabase('audit_behind');
  const pool = await openPgRegistry(db.url);
  const errors: unknown[] = [];
  const store = new PgAuditLog(pool, { onError: (err) => errors.push(err) });
  try {
    for (let i = 0; i < 2500; i++) store.record(i, 'bulk', 'device.update', `d${i % 7}`, { i });
    await store.flush();
    const page = await store.list({ actor: 'bulk', limit: 3 });
    expect(page.total).toBe(2500);
    expect(page.entries.map((e) => e.detail)).toEqual([{ i: 2499 }, { i: 2498 }, { i: 2497 }]);
    // The table away (as in a failed write): the entry waits, is retried, and lands.
    await pool.query('ALTER TABLE audit RENAME TO audit_away');
    store.record(9000, 'late', 'token.create', 'tok_1');
    await expect.poll(() => errors.length).toBeGreaterThan(0);
    await expect(store.flush()).rejects.toMatchObject({ code: 'REG_ERR_AUDIT_WRITE' });
    await pool.query('ALTER TABLE audit_away RENAME TO audit');
    await expect
      .poll(
        async () => (await pool.query("SELECT count(*)::int AS n FROM audit WHERE actor = 'late'")).rows[0].n,
        { timeout: 5000 },
      )
      .toBe(1);
    expect((await store.list({ actor: 'late', limit: 5 })).total).toBe(1);
  } finally {
    await store.close();
    await pool.end();
    await db.drop();
  }
});
