import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditStore } from '../device-registry/audit.ts';

/** What every AuditStore must do, on SQLite and on PostgreSQL: the same suite against each. */
export function auditStoreContract(
  name: string,
  open: () => Promise<{ store: AuditStore; close(): void | Promise<void> }>,
) {
  describe(`AuditStore contract: ${name}`, () => {
    let store: AuditStore;
    let close: () => void;
    beforeEach(async () => {
      ({ store, close } = await open());
      store.record(1000, 'alice', 'device.register', 'd1', { model: 'm' });
      store.record(2000, 'bob', 'device.firmware', 'd1', { from: '1.0.0', to: '2.0.0' });
      store.record(3000, 'alice', 'device.decommission', 'd2');
      store.record(4000, 'bob', 'device.update', 'd2', { ward: { from: 'a', to: 'b' } });
    });
    afterEach(async () => {
      await close();
    });

    const actions = (r: { entries: Array<{ action: string }> }) => r.entries.map((e) => e.action);

    it('lists newest first with the detail as recorded (null when none)', async () => {
      const r = await store.list({ limit: 10 });
      expect(r.total).toBe(4);
      expect(r.more).toBe(false);
      expect(actions(r)).toEqual([
        'device.update',
        'device.decommission',
        'device.firmware',
        'device.register',
      ]);
      expect(r.entries[1]).toMatchObject({ at: 3000, actor: 'alice', subject: 'd2', detail: null });
      expect(r.entries[2].detail).toEqual({ from: '1.0.0', to: '2.0.0' });
    });

    it('filters by subject, actor, action and an inclusive time range, together', async () => {
      expect(actions(await store.list({ subject: 'd1', limit: 10 }))).toEqual([
        'device.firmware',
        'device.register',
      ]);
      expect(actions(await store.list({ actor: 'alice', limit: 10 }))).toEqual([
        'device.decommission',
        'device.register',
      ]);
      expect(
        (await store.list({ action: 'device.firmware', limit: 10 })).entries.map((e) => e.subject),
      ).toEqual(['d1']);
      expect(actions(await store.list({ since: 2000, until: 3000, limit: 10 }))).toEqual([
        'device.decommission',
        'device.firmware',
      ]);
      const both = await store.list({ actor: 'bob', subject: 'd2', limit: 10 });
      expect(both.total).toBe(1);
      expect(actions(both)).toEqual(['device.update']);
    });

    it('pages with a cursor: total stays that of the filter, more says whether older ones follow', async () => {
      const first = await store.list({ limit: 3 });
      expect(first.more).toBe(true);
      const rest = await store.list({ limit: 3, beforeId: first.entries.at(-1)!.id });
      expect(rest.total).toBe(4);
      expect(rest.more).toBe(false);
      expect(actions(rest)).toEqual(['device.register']);
      const exact = await store.list({ limit: 4 });
      expect(exact.more).toBe(false);
    });
  });
}
