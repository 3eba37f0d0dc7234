import { afterAll, beforeAll } from 'vitest';
import { PgAlarmStore } from '../device-registry/pg/pg-alarms.ts';
import { openPgRegistry, type PgPool } from '../device-registry/pg/pg-db.ts';
import { alarmStoreContract } from './alarm-store-contract.ts';
import { createTestDatabase, type TestDatabase } from './helpers/pg.ts';

let db: TestDatabase;
let pool: PgPool;

beforeAll(async () => {
  db = await createTestDatabase('alarm_store');
  pool = await openPgRegistry(db.url);
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

alarmStoreContract('PostgreSQL', async () => {
  // Each case starts from empty tables of the file's own database.
  await pool.query('TRUNCATE alarms, alarm_history, alarm_rule_overrides');
  return { store: new PgAlarmStore(pool), close() {} };
});
