import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRegistryDb } from '../device-registry/db.ts';
import { SqliteTokenStore } from '../device-registry/tokens.ts';
import { tokenStoreContract } from './token-store-contract.ts';

tokenStoreContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'citygate-token-store-'));
  const db = openRegistryDb(join(dir, 'registry.db'));
  return {
    store: new SqliteTokenStore(db),
    async close() {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
