import { describe, expect, it } from 'vitest';
import type { AlarmFilter, AlarmRecord, AlarmStore } from '../device-registry/alarms.ts';

/**
 * What every AlarmStore must do, run against each implementation (SQLite and PostgreSQL,
 * issue 11). `open` returns a fresh, empty store whose registry knows devices d1, d2 and d3.
 */
export function alarmStoreContract(
  name: string,
  open: () => Promise<{ store: AlarmStore; close(): Promise<void> | void }>,
) {
  const alarm = (over: Partial<AlarmRecord>): AlarmRecord => ({
    id: 'a1',
    deviceId: 'd1',
    family: 'streetlight',
    district: 'Ba Đình',
    ward: 'Kim Mã',
    ruleId: 'lamp_fault',
    severity: 'major',
    state: 'active_unacknowledged',
    message: 'fault code 7',
    value: 7,
    occurrences: 1,
    raisedAt: 1000,
    updatedAt: 1000,
    acknowledgedAt: null,
    acknowledgedBy: null,
    clearedAt: null,
    shelvedUntil: null,
    shelvedBy: null,
    shelveReason: null,
    ...over,
  });
  const entry = (
    at: number,
    transition: 'raised' | 'acknowledged' | 'closed' | 'repeated',
    actor = 'system',
  ) => ({
    at,
    transition,
    state: 'active_unacknowledged' as const,
    actor,
    detail: null,
  });

  describe(`AlarmStore contract: ${name}`, () => {
    it('saves an alarm with its history, updates it in place and finds the open one per device and rule', async () => {
      const { store, close } = await open();
      const raised = alarm({});
      expect(await store.save(raised, entry(1000, 'raised'), null)).toBe(true);
      const acked = alarm({
        state: 'active_acknowledged',
        acknowledgedBy: 'ana',
        acknowledgedAt: 2000,
        updatedAt: 2000,
      });
      expect(await store.save(acked, entry(2000, 'acknowledged', 'ana'), raised)).toBe(true);
      expect(await store.get('a1')).toMatchObject({
        state: 'active_acknowledged',
        acknowledgedBy: 'ana',
        value: 7,
      });
      expect((await store.openFor('d1', 'lamp_fault'))?.id).toBe('a1');
      expect((await store.history('a1')).map((h) => [h.transition, h.actor, h.at])).toEqual([
        ['raised', 'system', 1000],
        ['acknowledged', 'ana', 2000],
      ]);
      expect((await store.history('a1', 1)).map((h) => h.transition)).toEqual(['acknowledged']);
      await store.save(alarm({ ...acked, state: 'closed', updatedAt: 3000 }), entry(3000, 'closed'), acked);
      expect(await store.openFor('d1', 'lamp_fault')).toBeUndefined();
      await store.save(alarm({ id: 'a2', raisedAt: 4000, updatedAt: 4000 }), entry(4000, 'raised'), null);
      expect((await store.openFor('d1', 'lamp_fault'))?.id).toBe('a2');
      await close();
    });

    it('refuses a second open alarm of the same device and rule, and writes no history for it', async () => {
      const { store, close } = await open();
      await store.save(alarm({}), entry(1000, 'raised'), null);
      expect(await store.save(alarm({ id: 'a2' }), entry(1000, 'raised'), null)).toBe(false);
      expect(await store.history('a2')).toEqual([]);
      expect(await store.get('a2')).toBeUndefined();
      await close();
    });

    it('refuses a step taken from a stale row: the alarm and its history stay as the winner left them', async () => {
      const { store, close } = await open();
      const raised = alarm({});
      await store.save(raised, entry(1000, 'raised'), null);
      const acked = alarm({
        state: 'active_acknowledged',
        acknowledgedBy: 'ana',
        acknowledgedAt: 2000,
        updatedAt: 2000,
      });
      const shelved = alarm({ shelvedUntil: 9000, shelvedBy: 'bo', shelveReason: 'works', updatedAt: 2000 });
      expect(await store.save(acked, entry(2000, 'acknowledged', 'ana'), raised)).toBe(true);
      expect(await store.save(shelved, entry(2000, 'repeated', 'bo'), raised)).toBe(false);
      expect(await store.get('a1')).toMatchObject({ state: 'active_acknowledged', shelvedUntil: null });
      expect((await store.history('a1')).map((h) => h.actor)).toEqual(['system', 'ana']);
      await close();
    });

    it('lists by filter, most severe first, paginated, and counts what the metrics need', async () => {
      const { store, close } = await open();
      await store.save(alarm({ id: 'w', severity: 'warning', raisedAt: 5000 }), entry(5000, 'raised'), null);
      await store.save(
        alarm({ id: 'c', deviceId: 'd2', severity: 'critical', district: 'Tây Hồ', raisedAt: 100 }),
        entry(100, 'raised'),
        null,
      );
      await store.save(
        alarm({
          id: 'm',
          deviceId: 'd3',
          ruleId: 'offline',
          family: 'water_station',
          state: 'cleared_unacknowledged',
          shelvedUntil: 9000,
        }),
        entry(6000, 'repeated'),
        null,
      );
      const all = await store.list({ limit: 10, offset: 0 });
      expect(all.total).toBe(3);
      expect(all.alarms.map((a) => a.id)).toEqual(['c', 'm', 'w']);
      const ids = async (f: Partial<AlarmFilter>) =>
        (await store.list({ limit: 10, offset: 0, ...f })).alarms.map((a) => a.id);
      const total = async (f: Partial<AlarmFilter>) =>
        (await store.list({ limit: 10, offset: 0, ...f })).total;
      expect(await ids({ limit: 1, offset: 1 })).toEqual(['m']);
      expect(await ids({ district: 'Tây Hồ' })).toEqual(['c']);
      expect(await total({ states: ['cleared_unacknowledged'] })).toBe(1);
      expect(await total({ shelved: false, family: 'streetlight' })).toBe(2);
      expect(await total({ deviceId: 'd1', severity: 'warning' })).toBe(1);
      const active = await store.active();
      expect(active).toEqual(
        expect.arrayContaining([
          { deviceId: 'd1', ruleId: 'lamp_fault' },
          { deviceId: 'd2', ruleId: 'lamp_fault' },
        ]),
      );
      expect(active).toHaveLength(2);
      expect(await store.shelved()).toEqual([{ id: 'm', shelvedUntil: 9000 }]);
      expect(await store.countActive()).toEqual(
        expect.arrayContaining([{ severity: 'critical', family: 'streetlight', n: 1 }]),
      );
      expect(await store.countOpen()).toEqual(
        expect.arrayContaining([
          { district: 'Ba Đình', severity: 'major', n: 1 },
          { district: 'Ba Đình', severity: 'warning', n: 1 },
          { district: 'Tây Hồ', severity: 'critical', n: 1 },
        ]),
      );
      expect(await store.countOpen()).toHaveLength(3);
      expect(await store.countTransitionsSince(1000, ['raised', 'repeated'])).toBe(2);
      await close();
    });

    it('keeps rule overrides by scope, key and rule, says whether one is new, and deletes them', async () => {
      const { store, close } = await open();
      const o = {
        scope: 'model' as const,
        key: 'lumina-slc300',
        ruleId: 'lamp_fault',
        updatedAt: 1,
        updatedBy: 'admin',
      };
      expect(await store.putOverride({ ...o, body: { severity: 'minor' } })).toBe(true);
      expect(await store.putOverride({ ...o, body: { severity: 'critical' } })).toBe(false);
      expect(await store.overrides()).toEqual([{ ...o, body: { severity: 'critical' } }]);
      expect(await store.deleteOverride('model', 'lumina-slc300', 'lamp_fault')).toBe(true);
      expect(await store.deleteOverride('model', 'lumina-slc300', 'lamp_fault')).toBe(false);
      await close();
    });
  });
}
