import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog } from '../device-registry/audit.ts';
import { openRegistryDb } from '../device-registry/db.ts';
import { auditStoreContract } from './audit-store-contract.ts';

auditStoreContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'citygate-audit-store-'));
  const db = openRegistryDb(join(dir, 'registry.db'));
  return {
    store: new AuditLog(db),
    close() {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
