import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRegistryDb } from '../device-registry/db.ts';
import { SqliteLightingStore } from '../device-registry/lighting.ts';
import { lightingStoreContract } from './lighting-store-contract.ts';

lightingStoreContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'citygate-lighting-store-'));
  const db = openRegistryDb(join(dir, 'registry.db'));
  return {
    store: new SqliteLightingStore(db),
    close() {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
