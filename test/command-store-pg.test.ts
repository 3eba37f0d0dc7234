import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgCommandStore } from '../device-registry/pg/pg-commands.ts';
import { openPgRegistry, type PgPool } from '../device-registry/pg/pg-db.ts';
import { commandStoreContract } from './command-store-contract.ts';
import { createTestDatabase, type TestDatabase } from './helpers/pg.ts';

let db: TestDatabase;
let pools: PgPool[] = [];

beforeAll(async () => {
  db = await createTestDatabase('command_store');
});
afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()));
  await db?.drop();
});

// Two pools on one database: two nodes of a cluster. Each test starts from empty tables.
commandStoreContract('PostgreSQL', async () => {
  const [pa, pb] = await Promise.all([openPgRegistry(db.url), openPgRegistry(db.url)]);
  pools.push(pa, pb);
  await pa.query('TRUNCATE commands, command_history, desired_state, bulk_commands');
  return {
    a: new PgCommandStore(pa),
    b: new PgCommandStore(pb),
    async close() {
      await Promise.all([pa.end(), pb.end()]);
      pools = pools.filter((p) => p !== pa && p !== pb);
    },
  };
});

describe('PgCommandStore: bulk roll-outs belong to the node that runs them', () => {
  it('resumes only its own unfinished roll-outs', async () => {
    const pool = await openPgRegistry(db.url);
    pools.push(pool);
    const store = new PgCommandStore(pool);
    const bulk = (id: string, owner: string) =>
      store.createBulk({
        id,
        name: 'setDimming',
        params: { level: 1 },
        selector: { ids: ['d1'] },
        ratePerSecond: 1,
        requestedBy: 'alice',
        createdAt: 1,
        deviceIds: ['d1', 'd2'],
        skipped: [],
        options: {},
        owner,
        finishedAt: null,
      });
    await bulk('bulk_a', 'node-a');
    await bulk('bulk_b', 'node-b');
    expect((await store.unfinishedBulks('node-a')).map((b) => b.id)).toEqual(['bulk_a']);
    expect((await store.bulk('bulk_b'))?.owner).toBe('node-b');
  });
});
