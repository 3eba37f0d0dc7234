import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRegistryDb } from '../device-registry/db.ts';
import { SqliteWebhookStore } from '../device-registry/webhooks.ts';
import { webhookStoreContract } from './webhook-store-contract.ts';

webhookStoreContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'citygate-webhooks-'));
  const db = openRegistryDb(join(dir, 'registry.db'));
  return {
    store: new SqliteWebhookStore(db),
    close() {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
