import { afterAll, beforeAll } from 'vitest';
import { PgCampaignStore } from '../device-registry/pg/pg-campaigns.ts';
import { openPgRegistry, type PgPool } from '../device-registry/pg/pg-db.ts';
import { PgFirmwareArtifactStore } from '../device-registry/pg/pg-firmware-artifacts.ts';
import { campaignStoreContract } from './campaign-store-contract.ts';
import { createTestDatabase, type TestDatabase } from './helpers/pg.ts';

let db: TestDatabase;
let pool: PgPool;
beforeAll(async () => {
  db = await createTestDatabase('campaign_store');
  pool = await openPgRegistry(db.url);
});
afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

campaignStoreContract('PostgreSQL', async () => {
  await pool.query('TRUNCATE firmware_artifacts, firmware_chunks, campaigns, campaign_targets');
  return { artifacts: new PgFirmwareArtifactStore(pool), campaigns: new PgCampaignStore(pool), close() {} };
});
