import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceStore, type NewDevice } from '../device-registry/devices.ts';
import { PgAuditLog } from '../device-registry/pg/pg-audit.ts';
import { openPgRegistry, type PgPool } from '../device-registry/pg/pg-db.ts';
import { PgDeviceRows } from '../device-registry/pg/pg-device-rows.ts';
import type { ModelSpec } from '../firmware-specs/define-device.ts';
import { loadSpecs } from '../firmware-specs/index.ts';
import type { ClusterBus, ClusterMessages, ClusterTopic } from '../gateway/cluster/cluster-bus.ts';
import { followDeviceChanges } from '../gateway/cluster/device-changes.ts';
import { createLogger } from '../gateway/logger.ts';
import { deviceStoreContract } from './device-store-contract.ts';
import { createTestDatabase, type TestDatabase } from './helpers/pg.ts';

deviceStoreContract('PostgreSQL', async () => {
  const db = await createTestDatabase('device_store');
  const pool = await openPgRegistry(db.url);
  const audit = new PgAuditLog(pool);
  return {
    rows: () => new PgDeviceRows(pool),
    audit,
    async close() {
      await audit.close();
      await pool.end();
      await db.drop();
    },
  };
});

/** Nodes in one process: what one publishes reaches the others' subscribers (as Redis would). */
function localBuses(ids: string[]): Map<string, ClusterBus> {
  const subscribers = new Map<string, Array<{ topic: ClusterTopic; fn: (m: never, from: string) => void }>>();
  const buses = new Map<string, ClusterBus>();
  for (const nodeId of ids) {
    subscribers.set(nodeId, []);
    buses.set(nodeId, {
      nodeId,
      publish<T extends ClusterTopic>(topic: T, message: ClusterMessages[T]) {
        for (const [other, subs] of subscribers)
          if (other !== nodeId) for (const s of subs) if (s.topic === topic) s.fn(message as never, nodeId);
      },
      subscribe(topic, fn) {
        subscribers.get(nodeId)!.push({ topic, fn: fn as (m: never, from: string) => void });
      },
      async close() {},
    });
  }
  return buses;
}

describe('DeviceStore on PostgreSQL across nodes', () => {
  let db: TestDatabase;
  let pool: PgPool;
  let specs: ReadonlyMap<string, ModelSpec>;
  const now = () => Date.now();
  const node = (nodeId: string, announce?: (id: string) => void) =>
    DeviceStore.open(new PgDeviceRows(pool), specs, { nodeId, announce, clock: { now } });
  let seq = 0;
  const lamp = (): NewDevice => ({
    id: `pg-lamp-${++seq}`,
    model: 'lumina-slc300',
    firmware: '1.4.0',
    district: 'Ba Đình',
    ward: 'Điện Biên',
  });

  beforeAll(async () => {
    specs = await loadSpecs();
    db = await createTestDatabase('device_nodes');
    pool = await openPgRegistry(db.url);
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  it('a device disabled through node A is refused by node B once B re-reads it, and cut off there', async () => {
    const a = await node('a');
    const b = await node('b');
    const { device, secret } = await a.register(lamp(), now());
    await b.reload(device.id);
    const before = b.get(device.id)!;
    expect(await b.verifyCredentials(device.id, secret!)).toBe('ok');
    const cut: string[] = [];
    const changes: string[] = [];
    b.onCutOff((id) => cut.push(id));
    b.onChange((d, change) => changes.push(`${d.id}:${change}`));
    await a.setEnabled(device.id, false);
    await b.reload(device.id);
    expect(await b.verifyCredentials(device.id, secret!)).toBe('disabled');
    expect(b.get(device.id)).not.toBe(before);
    expect(cut).toEqual([device.id]);
    expect(changes).toEqual([`${device.id}:disabled`]);
  });

  it('a node that missed the message catches up by polling: registrations, changes, decommissioning', async () => {
    const a = await node('a');
    const b = await node('b');
    const { device, secret } = await a.register(lamp(), now());
    await b.poll();
    expect(await b.verifyCredentials(device.id, secret!)).toBe('ok');
    await a.update(device.id, { ward: 'Kim Mã' }, 'alice');
    await a.decommission(device.id, 'alice');
    await b.poll();
    expect(b.get(device.id)).toMatchObject({ ward: 'Kim Mã', enabled: false });
    expect(await b.verifyCredentials(device.id, secret!)).toBe('decommissioned');
    // Registration through B of an id A took meanwhile is refused, as on one node.
    const late = lamp();
    await a.register(late, now());
    await expect(b.register(late, now())).rejects.toMatchObject({ code: 'REG_ERR_DEVICE_EXISTS' });
    const imported = await b.importDevices(
      [
        { line: 2, input: { ...late } },
        { line: 3, input: lamp() },
      ],
      {
        partial: true,
        actor: 'ops',
        now: now(),
      },
    );
    expect(imported.imported).toHaveLength(1);
    expect(
      imported.problems.map((p) => [p.line, (p.problem.error as Error & { code: string }).code]),
    ).toEqual([[2, 'REG_ERR_DEVICE_EXISTS']]);
  });

  it('an id imported by another node meanwhile fails an all-or-nothing import and imports nothing', async () => {
    const a = await node('a');
    const b = await node('b');
    const rows = [lamp(), lamp(), lamp()].map((input, i) => ({ line: i + 2, input }));
    await a.register(rows[1].input, now());
    const result = await b.importDevices(rows, { partial: false, actor: 'ops', now: now() });
    expect(result.imported).toEqual([]);
    expect(result.problems.map((p) => p.line)).toEqual([3]);
    const c = await node('c');
    expect(c.get(rows[0].input.id)).toBeUndefined();
    expect(c.get(rows[2].input.id)).toBeUndefined();
  });

  it('imports in batches inside one transaction: a conflict in the last batch leaves nothing of the first', async () => {
    const a = await node('a');
    const b = await node('b');
    const rows = Array.from({ length: 12_000 }, (_, i) => ({ line: i + 2, input: lamp() }));
    await a.register(rows[11_500].input, now());
    const none = await b.importDevices(rows, { partial: false, actor: 'ops', now: now() });
    expect(none.imported).toEqual([]);
    expect(none.problems.map((p) => p.line)).toEqual([11_502]);
    const { rows: counted } = await pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM devices WHERE id = ANY($1::text[])',
      [rows.map((r) => r.input.id)],
    );
    expect(counted[0].n).toBe(1);
    const all = await b.importDevices(
      rows.filter((r) => r.line !== 11_502),
      { partial: false, actor: 'ops', now: now() },
    );
    expect(all.imported).toHaveLength(11_999);
    expect((await node('c')).get(rows[0].input.id)).toBeDefined();
  });

  it('presence belongs to the node holding the connection; a reset clears only its own', async () => {
    const a = await node('a');
    const b = await node('b');
    const moving = (await a.register(lamp(), now())).device.id;
    const stays = (await a.register(lamp(), now())).device.id;
    await b.poll();
    a.markPresence(moving, true, now());
    a.markPresence(stays, true, now());
    await a.flush();
    // The device reconnects to B before A notices its old connection is gone.
    b.markPresence(moving, true, now());
    await b.flush();
    a.markPresence(moving, false, now());
    await a.flush();
    const c = await node('c');
    expect(c.get(moving)!.online).toBe(true);
    expect(c.get(stays)!.online).toBe(true);
    // A restarts: its devices are offline, B's stay online.
    const a2 = await node('a');
    await a2.resetPresence();
    expect(a2.get(moving)!.online).toBe(true);
    expect(a2.get(stays)!.online).toBe(false);
    await c.poll();
    expect(c.get(stays)!.online).toBe(false);
    expect(c.get(moving)!.online).toBe(true);
  });

  it("a poll before this node's next flush does not bring back the presence it just changed", async () => {
    const a = await node('a');
    const { device } = await a.register(lamp(), now());
    a.markPresence(device.id, true, now());
    await a.flush();
    a.markPresence(device.id, false, now());
    await a.poll();
    expect(a.get(device.id)!.online).toBe(false);
    await a.flush();
    expect((await node('c')).get(device.id)!.online).toBe(false);
  });

  it('refresh() shows the last reading and state another node flushed; an older one is not written over a newer', async () => {
    const a = await node('a');
    const b = await node('b');
    const { device } = await a.register(lamp(), now());
    await b.poll();
    const t = now();
    a.recordReading(device.id, { power_w: 10 }, t);
    await a.flush();
    b.recordReading(device.id, { power_w: 20 }, t + 1000);
    b.recordState(device.id, { relay: 'off' }, t + 1000);
    await b.flush();
    a.markPresence(device.id, false, t + 2000);
    await a.flush();
    expect(await a.refresh(device.id)).toMatchObject({
      lastReading: { power_w: 20 },
      lastReadingAt: t + 1000,
      reportedState: { relay: 'off' },
    });
  });

  it('with the bus, a device disabled through node A is refused by node C within a second', async () => {
    const buses = localBuses(['a', 'c']);
    const a = await node('a', (id) => buses.get('a')!.publish('device.changed', { id }));
    const c = await node('c');
    const stop = followDeviceChanges(c, buses.get('c')!, { log: createLogger('silent') });
    try {
      const { device, secret } = await a.register(lamp(), now());
      await expect.poll(() => c.verifyCredentials(device.id, secret!), { timeout: 1000 }).toBe('ok');
      const disabledAt = Date.now();
      await a.setEnabled(device.id, false);
      await expect
        .poll(() => c.verifyCredentials(device.id, secret!), { timeout: 1000, interval: 20 })
        .toBe('disabled');
      expect(Date.now() - disabledAt).toBeLessThan(1000);
    } finally {
      stop();
    }
  });

  it('without the message, the poll of followDeviceChanges refuses the disabled device within its interval', async () => {
    const a = await node('a');
    const c = await node('c');
    const stop = followDeviceChanges(c, localBuses(['c']).get('c')!, {
      log: createLogger('silent'),
      intervalMs: 200,
    });
    try {
      const { device, secret } = await a.register(lamp(), now());
      await expect.poll(() => c.verifyCredentials(device.id, secret!), { timeout: 2000 }).toBe('ok');
      await a.setEnabled(device.id, false);
      await expect.poll(() => c.verifyCredentials(device.id, secret!), { timeout: 2000 }).toBe('disabled');
    } finally {
      stop();
    }
  });
});
