import { afterAll, beforeAll } from 'vitest';
import { openPgRegistry, type PgPool } from '../device-registry/pg/pg-db.ts';
import { PgLightingStore } from '../device-registry/pg/pg-lighting.ts';
import { createTestDatabase, type TestDatabase } from './helpers/pg.ts';
import { lightingStoreContract } from './lighting-store-contract.ts';

let db: TestDatabase;
let pool: PgPool;
beforeAll(async () => {
  db = await createTestDatabase('lighting_store');
  pool = await openPgRegistry(db.url);
});
afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

lightingStoreContract('PostgreSQL', async () => {
  await pool.query('TRUNCATE lighting_programs, lighting_calendar, lighting_executed, lighting_overrides');
  return { store: new PgLightingStore(pool), close() {} };
});
