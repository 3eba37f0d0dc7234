import { afterAll, beforeAll } from 'vitest';
import { openPgRegistry, type PgPool } from '../device-registry/pg/pg-db.ts';
import { PgWebhookStore } from '../device-registry/pg/pg-webhooks.ts';
import { createTestDatabase, type TestDatabase } from './helpers/pg.ts';
import { webhookStoreContract } from './webhook-store-contract.ts';

let db: TestDatabase;
let pool: PgPool;

beforeAll(async () => {
  db = await createTestDatabase('webhook_store');
  pool = await openPgRegistry(db.url);
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

webhookStoreContract('PostgreSQL', async () => {
  // Each case starts from empty tables of the file's own database.
  await pool.query('TRUNCATE webhooks, webhook_deliveries');
  return { store: new PgWebhookStore(pool), close() {} };
});
