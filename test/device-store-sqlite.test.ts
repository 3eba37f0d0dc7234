import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog } from '../device-registry/audit.ts';
import { openRegistryDb } from '../device-registry/db.ts';
import { SqliteDeviceRows } from '../device-registry/sqlite-device-rows.ts';
import { deviceStoreContract } from './device-store-contract.ts';

deviceStoreContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'citygate-device-store-'));
  const db = openRegistryDb(join(dir, 'registry.db'));
  const audit = new AuditLog(db);
  return {
    rows: () => new SqliteDeviceRows(db, audit),
    audit,
    async close() {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
