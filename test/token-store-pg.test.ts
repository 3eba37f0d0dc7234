import { expect, it } from 'vitest';
import { openPgRegistry } from '../device-registry/pg/pg-db.ts';
import { PgTokenStore } from '../device-registry/pg/pg-tokens.ts';
import { generateToken } from '../device-registry/tokens.ts';
import { createTestDatabase } from './helpers/pg.ts';
import { tokenStoreContract } from './token-store-contract.ts';

tokenStoreContract('PostgreSQL', async () => {
  const db = await createTestDatabase('token_store');
  const pool = await openPgRegistry(db.url);
  return {
    store: new PgTokenStore(pool),
    async close() {
      await pool.end();
      await db.drop();
    },
  };
});

it('a token revoked through one node is refused by another at once, and nodes starting together bootstrap once', async () => {
  const db = await createTestDatabase('token_nodes');
  const [poolA, poolB] = await Promise.all([openPgRegistry(db.url), openPgRegistry(db.url)]);
  try {
    const a = new PgTokenStore(poolA);
    const b = new PgTokenStore(poolB);
    const admin = generateToken();
    await Promise.all([a.ensureBootstrap(admin, 1, 'env', 'x'), b.ensureBootstrap(admin, 1, 'env', 'x')]);
    expect((await a.list()).filter((t) => t.bootstrap)).toHaveLength(1);
    const made = await a.create('ops', 'operator', 'admin', 2);
    expect(await b.verify(made.token)).toMatchObject({ name: 'ops' });
    await a.revoke(made.id, 3);
    expect(await b.verify(made.token)).toBeNull();
  } finally {
    await Promise.all([poolA.end(), poolB.end()]);
    await db.drop();
  }
});
