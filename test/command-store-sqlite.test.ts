import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRegistryDb } from '../device-registry/db.ts';
import { SqliteCommandStore } from '../device-registry/sqlite-commands.ts';
import { commandStoreContract } from './command-store-contract.ts';

// One process is the only writer of its SQLite registry: "two nodes" are its one store twice.
commandStoreContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'citygate-command-store-'));
  const db = openRegistryDb(join(dir, 'registry.db'));
  const insert = db.prepare(
    "INSERT INTO devices (id, model, family, firmware, district, ward, created_at) VALUES (?, 'm', 'streetlight', '1.0', 'x', 'y', 0)",
  );
  for (const id of ['d1', 'd2', 'd3']) insert.run(id);
  const store = new SqliteCommandStore(db);
  return {
    a: store,
    b: store,
    async close() {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
