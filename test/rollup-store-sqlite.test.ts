import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from 'vitest';
import { SqliteRollupStore } from '../gateway/history/rollup-store.ts';
import { rollupStoreContract } from './helpers/rollup-store-contract.ts';

describe('rollup store contract: SQLite', () => {
  rollupStoreContract(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'citygate-rollup-contract-'));
    const store = new SqliteRollupStore(join(dir, 'rollup.db'));
    return {
      store,
      async cleanup() {
        store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });
});
