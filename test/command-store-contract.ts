import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type BulkRecord,
  type Command,
  type CommandStore,
  MAX_HISTORY,
  type NewCommand,
  newCommandId,
} from '../device-registry/commands.ts';

/**
 * What every CommandStore must do, on SQLite and on PostgreSQL. `a` and `b` are two stores on
 * the same data: two nodes of a cluster on PostgreSQL (separate pools), the one process's store
 * twice on SQLite. Devices d1..d3 exist where the schema asks for them.
 */
export function commandStoreContract(
  name: string,
  open: () => Promise<{ a: CommandStore; b: CommandStore; close(): Promise<void> }>,
) {
  describe(`CommandStore contract: ${name}`, () => {
    let a: CommandStore;
    let b: CommandStore;
    let close: () => Promise<void>;
    beforeEach(async () => {
      ({ a, b, close } = await open());
    });
    afterEach(() => close());

    const cmd = (over: Partial<NewCommand> = {}): NewCommand => ({
      id: newCommandId(),
      deviceId: 'd1',
      name: 'setRelay',
      mode: 'action',
      params: { closed: false },
      requestedBy: 'alice',
      idempotencyKey: null,
      bulkId: null,
      createdAt: 1000,
      expiresAt: 61_000,
      timeoutMs: 30_000,
      ...over,
    });
    /** The guard of a command allowed once a minute. */
    const oncePerMinute = (now: number) => (last: number | null) => {
      if (last !== null && last + 60_000 > now) throw new Error('rate limited');
    };
    const state = (
      level: number,
      at: number,
    ): [NewCommand, { state: { actor: string; desired: Record<string, unknown> } }] => [
      cmd({ name: 'setDimming', mode: 'state', params: { level }, createdAt: at, expiresAt: at + 60_000 }),
      { state: { actor: 'alice', desired: { dim_percent: level } } },
    ];

    it('stores a queued command with its history, read back the same by the other store', async () => {
      const c = cmd({ params: { closed: false, note: 'ư' } });
      const { command, created, superseded } = await a.create(c);
      expect(created).toBe(true);
      expect(superseded).toEqual([]);
      expect(command).toMatchObject({ ...c, status: 'queued', updatedAt: 1000, sentAt: null, result: null });
      expect(await b.get(c.id)).toEqual(command);
      expect(await b.history(c.id)).toEqual([{ at: 1000, status: 'queued', actor: 'alice', detail: null }]);
      expect(await a.get('cmd_none')).toBeNull();
    });

    it('follows the lifecycle: only allowed moves, conditional on the status, a final state stays final', async () => {
      const { command } = await a.create(cmd());
      expect(await a.transition(command.id, 'delivered', 1100, 'gateway')).toBeNull(); // not sent yet
      const sent = await a.transition(command.id, 'sent', 1200, 'gateway');
      expect(sent).toMatchObject({ status: 'sent', sentAt: 1200, updatedAt: 1200 });
      const done = await b.transition(command.id, 'succeeded', 1300, 'd1', {
        result: { relay_closed: false },
      });
      expect(done).toMatchObject({ status: 'succeeded', result: { relay_closed: false }, sentAt: 1200 });
      expect(await a.transition(command.id, 'timed_out', 1400, 'gateway')).toBeNull();
      expect(await a.transition(command.id, 'failed', 1400, 'd1', { error: 'late' })).toBeNull();
      expect(await b.get(command.id)).toMatchObject({ status: 'succeeded', error: null });
      expect((await a.history(command.id)).map((h) => h.status)).toEqual(['queued', 'sent', 'succeeded']);
      const failed = await a.create(cmd({ name: 'reboot' }));
      await a.transition(failed.command.id, 'sent', 1500, 'gateway');
      expect(await a.transition(failed.command.id, 'failed', 1600, 'd1', { error: 'no' })).toMatchObject({
        status: 'failed',
        error: 'no',
      });
      expect((await a.history(failed.command.id)).at(-1)).toMatchObject({ status: 'failed', detail: 'no' });
    });

    it('lets only one of two nodes send a command, and only one finalize it', async () => {
      for (let i = 0; i < 5; i++) {
        const { command } = await a.create(cmd({ name: `n${i}` }));
        const sends = await Promise.all([
          a.transition(command.id, 'sent', 2000, 'node-a'),
          b.transition(command.id, 'sent', 2000, 'node-b'),
        ]);
        expect(sends.filter(Boolean)).toHaveLength(1);
        const ends = await Promise.all([
          a.transition(command.id, 'timed_out', 3000, 'node-a'),
          b.transition(command.id, 'succeeded', 3000, 'd1', { result: {} }),
        ]);
        expect(ends.filter(Boolean)).toHaveLength(1);
        expect((await a.history(command.id)).map((h) => h.status)).toHaveLength(3);
      }
    });

    it('gives one command per idempotency key and device, also to concurrent creates on two nodes', async () => {
      const first = await a.create(cmd({ idempotencyKey: 'k1' }));
      const again = await b.create(cmd({ idempotencyKey: 'k1' }));
      expect(again).toMatchObject({ created: false, command: { id: first.command.id } });
      expect((await a.create(cmd({ idempotencyKey: 'k1', deviceId: 'd2' }))).created).toBe(true);
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).create(cmd({ idempotencyKey: 'k2' }))),
      );
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.command.id)).size).toBe(1);
      expect(await b.byIdempotencyKey('d1', 'k2')).toMatchObject({ id: results[0].command.id });
      expect(await b.byIdempotencyKey('d3', 'k2')).toBeNull();
    });

    it('holds a rate guard across nodes: of concurrent creates within the interval, one goes', async () => {
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) =>
          (i % 2 ? a : b).create(cmd({ createdAt: 5000 + i }), { guard: oncePerMinute(5000 + i) }),
        ),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(results.filter((r) => r.status === 'rejected').map((r) => String(r.reason))).toEqual(
        Array(7).fill('Error: rate limited'),
      );
      expect(await a.forDevice('d1')).toHaveLength(1);
      expect(await b.lastRequestedAt('d1', 'setRelay')).toBeGreaterThanOrEqual(5000);
      // A failed one does not count: the device never acted on it.
      const [only] = await a.forDevice('d1');
      await a.transition(only.id, 'cancelled', 6000, 'alice');
      expect(await b.lastRequestedAt('d1', 'setRelay')).toBeNull();
      expect((await b.create(cmd({ createdAt: 7000 }), { guard: oncePerMinute(7000) })).created).toBe(true);
    });

    it('a newer state command supersedes the queued older one and sets the desired state, atomically', async () => {
      const first = await a.create(...state(40, 1000));
      expect(first.desired).toMatchObject({ command: 'setDimming', version: 1, state: { dim_percent: 40 } });
      const second = await b.create(...state(60, 2000));
      expect(second.superseded.map((c) => [c.id, c.status])).toEqual([[first.command.id, 'cancelled']]);
      expect((await a.history(first.command.id)).at(-1)).toMatchObject({
        status: 'cancelled',
        detail: 'superseded by a newer command',
      });
      expect(await a.desired('d1')).toEqual([
        {
          command: 'setDimming',
          params: { level: 60 },
          state: { dim_percent: 60 },
          version: 2,
          updatedAt: 2000,
        },
      ]);
      // A sent one is not superseded: it is already on its way.
      await a.transition(second.command.id, 'sent', 2100, 'gateway');
      expect((await a.create(...state(80, 3000))).superseded).toEqual([]);
      expect((await b.allDesired()).get('d1')?.[0]).toMatchObject({ version: 3, params: { level: 80 } });
      expect((await b.allDesired()).has('d2')).toBe(false);
    });

    it('concurrent state commands on two nodes leave one queued and count every desired version', async () => {
      await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).create(...state(i, 1000 + i))));
      const queued = await a.forDevice('d1', { status: ['queued'] });
      expect(queued).toHaveLength(1);
      expect(await a.forDevice('d1', { status: ['cancelled'] })).toHaveLength(9);
      const [desired] = await b.desired('d1');
      expect(desired.version).toBe(10);
      expect(desired.params).toEqual(queued[0].params);
    });

    it('lists a device newest first a page at a time, by status oldest first, and the open ones', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++)
        ids.push((await a.create(cmd({ name: `c${i}`, createdAt: 1000 + i }))).command.id);
      await a.create(cmd({ deviceId: 'd2' }));
      await b.transition(ids[1], 'sent', 2000, 'gateway');
      const p1 = await b.page('d1', { limit: 2 });
      expect(p1.commands.map((c) => c.id)).toEqual([ids[4], ids[3]]);
      const p2 = await a.page('d1', { limit: 2, before: p1.next! });
      expect(p2.commands.map((c) => c.id)).toEqual([ids[2], ids[1]]);
      const p3 = await a.page('d1', { limit: 2, before: p2.next! });
      expect(p3).toEqual({ commands: [expect.objectContaining({ id: ids[0] })], next: null });
      expect((await a.page('d1', { limit: 10, status: 'sent' })).commands.map((c) => c.id)).toEqual([ids[1]]);
      expect((await b.forDevice('d1', { status: ['queued'] })).map((c) => c.id)).toEqual([
        ids[0],
        ids[2],
        ids[3],
        ids[4],
      ]);
      expect((await b.forDevice('d1', { limit: 2 })).map((c) => c.id)).toEqual([ids[4], ids[3]]);
      expect((await a.open()).map((c) => c.id)).toHaveLength(6);
      expect((await b.waitingDevices(1000, 10)).sort()).toEqual(['d1', 'd2']);
      expect(await b.waitingDevices(999, 10)).toEqual([]);
      if (a.readNow) expect(a.readNow.forDevice('d1', 3)).toEqual(await a.forDevice('d1', { limit: 3 }));
    });

    it('keeps a late reply in the history, bounded', async () => {
      const { command } = await a.create(cmd());
      for (let i = 0; i < MAX_HISTORY + 5; i++)
        await (i % 2 ? a : b).note(command.id, 2000 + i, 'd1', `late ${i}`);
      const h = await a.history(command.id);
      expect(h).toHaveLength(MAX_HISTORY);
      expect(h[1]).toMatchObject({ status: 'queued', detail: 'late 0', actor: 'd1' });
      await a.note('cmd_none', 1, 'd1', 'x'); // an unknown command: nothing, no error
    });

    it('finds the commands past their deadline, and two nodes sweeping them move each once', async () => {
      const queuedLate = (await a.create(cmd({ name: 'q1', expiresAt: 10_000 }))).command;
      const queuedOk = (await a.create(cmd({ name: 'q2', expiresAt: 50_000 }))).command;
      const sentLate = (await a.create(cmd({ name: 's1', timeoutMs: 5000 }))).command;
      const sentOk = (await a.create(cmd({ name: 's2', timeoutMs: 60_000 }))).command;
      const deliveredLate = (await a.create(cmd({ name: 'd1', timeoutMs: 5000 }))).command;
      for (const c of [sentLate, sentOk, deliveredLate]) await a.transition(c.id, 'sent', 4000, 'gateway');
      await a.transition(deliveredLate.id, 'delivered', 4500, 'd1');
      const overdue = await b.overdue(10_000, 100);
      expect(overdue.map((c) => c.id).sort()).toEqual([queuedLate.id, sentLate.id, deliveredLate.id].sort());
      expect(await b.overdue(10_000, 1)).toHaveLength(1);
      const sweep = async (s: CommandStore) => {
        const moved: Command[] = [];
        for (const c of await s.overdue(10_000, 100)) {
          const m = await s.transition(
            c.id,
            c.status === 'queued' ? 'expired' : 'timed_out',
            10_000,
            'gateway',
          );
          if (m) moved.push(m);
        }
        return moved;
      };
      const [byA, byB] = await Promise.all([sweep(a), sweep(b)]);
      expect(byA.length + byB.length).toBe(3);
      expect((await a.get(queuedLate.id))?.status).toBe('expired');
      expect((await a.get(sentLate.id))?.status).toBe('timed_out');
      expect((await a.get(deliveredLate.id))?.status).toBe('timed_out');
      expect((await a.get(queuedOk.id))?.status).toBe('queued');
      expect(await a.overdue(10_000, 100)).toEqual([]);
    });

    it('stores a bulk roll-out, its commands, what is unfinished and its end', async () => {
      const bulk: BulkRecord = {
        id: 'bulk_1',
        name: 'setDimming',
        params: { level: 30 },
        selector: { district: 'Hoàn Kiếm' },
        ratePerSecond: 10,
        requestedBy: 'alice',
        createdAt: 1000,
        deviceIds: ['d1', 'd2', 'd3'],
        skipped: [{ deviceId: 'd9', reason: 'disabled' }],
        options: { ttlSeconds: 60 },
        owner: 'local',
        finishedAt: null,
      };
      await a.createBulk(bulk);
      expect(await b.bulk('bulk_1')).toEqual(bulk);
      expect(await b.bulk('bulk_none')).toBeNull();
      const one = await a.create(cmd({ bulkId: 'bulk_1' }));
      await a.create(cmd({ deviceId: 'd2', bulkId: 'bulk_1' }));
      expect((await b.unfinishedBulks('local')).map((x) => x.id)).toEqual(['bulk_1']);
      await a.transition(one.command.id, 'cancelled', 1500, 'alice');
      expect(await b.bulkCommands('bulk_1')).toEqual([
        { id: one.command.id, deviceId: 'd1', status: 'cancelled', error: null, updatedAt: 1500 },
        expect.objectContaining({ deviceId: 'd2', status: 'queued' }),
      ]);
      await b.finishBulk('bulk_1', 2000, [{ deviceId: 'd3', reason: 'rate limited' }]);
      expect(await a.bulk('bulk_1')).toMatchObject({
        finishedAt: 2000,
        skipped: [
          { deviceId: 'd9', reason: 'disabled' },
          { deviceId: 'd3', reason: 'rate limited' },
        ],
      });
      expect(await a.unfinishedBulks('local')).toEqual([]);
    });
  });
}
