import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteCampaignStore } from '../device-registry/campaigns.ts';
import { openRegistryDb } from '../device-registry/db.ts';
import { SqliteFirmwareArtifactStore } from '../device-registry/firmware-artifacts.ts';
import { campaignStoreContract } from './campaign-store-contract.ts';

campaignStoreContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'citygate-campaign-store-'));
  const db = openRegistryDb(join(dir, 'registry.db'));
  return {
    artifacts: new SqliteFirmwareArtifactStore(db),
    campaigns: new SqliteCampaignStore(db),
    close() {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
