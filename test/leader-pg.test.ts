import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEADER_LOCK_CLASS, Leader } from '../gateway/cluster/leader.ts';
import { createLogger } from '../gateway/logger.ts';
import { createTestDatabase, PG_ADMIN_URL, type TestDatabase } from './helpers/pg.ts';

/** Two nodes on one database campaign for the same leadership, as two gateway processes would. */
describe('leadership on a PostgreSQL advisory lock', () => {
  let db: TestDatabase;
  const leaders: Leader[] = [];
  beforeAll(async () => {
    db = await createTestDatabase('leader');
  });
  afterAll(async () => {
    for (const l of leaders) await l.stop();
    await db?.drop();
  });

  const node = (id: string, events: string[]) => {
    const leader = new Leader({
      name: 'campaigns',
      retryMs: 500,
      log: createLogger('silent'),
      async connect() {
        const c = new pg.Client({ connectionString: db.url });
        await c.connect();
        return c;
      },
      onGain: () => void events.push(`${id} gained`),
      onLose: () => void events.push(`${id} lost`),
    });
    leaders.push(leader);
    return leader;
  };

  /** Ends the lock holder's session from the server side, as a crashed node's would end. */
  async function killHolder(): Promise<number> {
    const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    try {
      const { rows } = await admin.query(
        `SELECT pg_terminate_backend(l.pid) AS killed FROM pg_locks l JOIN pg_database d ON d.oid = l.database
         WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1 AND d.datname = $2`,
        [LEADER_LOCK_CLASS, db.name],
      );
      return rows.filter((r) => r.killed).length;
    } finally {
      await admin.end();
    }
  }

  const waitFor = async (cond: () => boolean, ms: number) => {
    const deadline = Date.now() + ms;
    while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    return cond();
  };

  it('lets exactly one of two nodes lead, and the other take over within seconds when its connection dies', async () => {
    const events: string[] = [];
    const a = node('a', events);
    const b = node('b', events);
    await a.start();
    await b.start();
    expect([a.isLeader(), b.isLeader()]).toEqual([true, false]);
    // Several rounds later, still one leader.
    await new Promise((r) => setTimeout(r, 1200));
    expect([a.isLeader(), b.isLeader()]).toEqual([true, false]);
    expect(events).toEqual(['a gained']);

    const killedAt = Date.now();
    expect(await killHolder()).toBe(1);
    expect(await waitFor(() => b.isLeader() && !a.isLeader(), 5000)).toBe(true);
    expect(Date.now() - killedAt).toBeLessThan(3000);
    expect(events.slice(1).sort()).toEqual(['a lost', 'b gained']);

    // The old leader comes back as a follower: its retries do not take the lock from b.
    await new Promise((r) => setTimeout(r, 1200));
    expect([a.isLeader(), b.isLeader()]).toEqual([false, true]);

    // A leader that stops lets go at once.
    await b.stop();
    expect(await waitFor(() => a.isLeader(), 3000)).toBe(true);
    expect(events.slice(3)).toEqual(['b lost', 'a gained']);
  });
});
