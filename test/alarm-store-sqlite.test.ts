import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteAlarmStore } from '../device-registry/alarms.ts';
import { openRegistryDb } from '../device-registry/db.ts';
import { alarmStoreContract } from './alarm-store-contract.ts';

alarmStoreContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'citygate-alarm-store-'));
  const db = openRegistryDb(join(dir, 'registry.db'));
  const insert = db.prepare(
    "INSERT INTO devices (id, model, family, firmware, district, ward, created_at) VALUES (?, 'm', 'streetlight', '1.0', 'x', 'y', 0)",
  );
  for (const id of ['d1', 'd2', 'd3']) insert.run(id);
  return {
    store: new SqliteAlarmStore(db),
    close() {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
