import { describe, expect, it } from 'vitest';
import type { AlarmRecord, AlarmStore } from '../device-registry/alarms.ts';

/**
 * What every AlarmStore must do, run against each implementation (SQLite now; PostgreSQL in
 * issue 11). `open` returns a fresh, empty store whose registry knows devices d1, d2 and d3.
 */
export function alarmStoreContract(name: string, open: () => Promise<{ store: AlarmStore; close(): void }>) {
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
      store.save(alarm({}), entry(1000, 'raised'));
      store.save(
        alarm({ state: 'active_acknowledged', acknowledgedBy: 'ana', acknowledgedAt: 2000, updatedAt: 2000 }),
        entry(2000, 'acknowledged', 'ana'),
      );
      expect(store.get('a1')).toMatchObject({
        state: 'active_acknowledged',
        acknowledgedBy: 'ana',
        value: 7,
      });
      expect(store.openFor('d1', 'lamp_fault')?.id).toBe('a1');
      expect(store.history('a1').map((h) => [h.transition, h.actor, h.at])).toEqual([
        ['raised', 'system', 1000],
        ['acknowledged', 'ana', 2000],
      ]);
      store.save(alarm({ state: 'closed', updatedAt: 3000 }), entry(3000, 'closed'));
      expect(store.openFor('d1', 'lamp_fault')).toBeUndefined();
      store.save(alarm({ id: 'a2', raisedAt: 4000, updatedAt: 4000 }), entry(4000, 'raised'));
      expect(store.openFor('d1', 'lamp_fault')?.id).toBe('a2');
      close();
    });

    it('refuses a second open alarm of the same device and rule, and writes no history for it', async () => {
      const { store, close } = await open();
      store.save(alarm({}), entry(1000, 'raised'));
      expect(() => store.save(alarm({ id: 'a2' }), entry(1000, 'raised'))).toThrow();
      expect(store.history('a2')).toEqual([]);
      close();
    });

    it('lists by filter, most severe first, paginated, and counts what the metrics need', async () => {
      const { store, close } = await open();
      store.save(alarm({ id: 'w', severity: 'warning', raisedAt: 5000 }), entry(5000, 'raised'));
      store.save(
        alarm({ id: 'c', deviceId: 'd2', severity: 'critical', district: 'Tây Hồ', raisedAt: 100 }),
        entry(100, 'raised'),
      );
      store.save(
        alarm({
          id: 'm',
          deviceId: 'd3',
          ruleId: 'offline',
          family: 'water_station',
          state: 'cleared_unacknowledged',
          shelvedUntil: 9000,
        }),
        entry(6000, 'repeated'),
      );
      const all = store.list({ limit: 10, offset: 0 });
      expect(all.total).toBe(3);
      expect(all.alarms.map((a) => a.id)).toEqual(['c', 'm', 'w']);
      expect(store.list({ limit: 1, offset: 1 }).alarms.map((a) => a.id)).toEqual(['m']);
      expect(store.list({ district: 'Tây Hồ', limit: 10, offset: 0 }).alarms.map((a) => a.id)).toEqual(['c']);
      expect(store.list({ states: ['cleared_unacknowledged'], limit: 10, offset: 0 }).total).toBe(1);
      expect(store.list({ shelved: false, family: 'streetlight', limit: 10, offset: 0 }).total).toBe(2);
      expect(store.list({ deviceId: 'd1', severity: 'warning', limit: 10, offset: 0 }).total).toBe(1);
      expect(store.active()).toEqual(
        expect.arrayContaining([
          { deviceId: 'd1', ruleId: 'lamp_fault' },
          { deviceId: 'd2', ruleId: 'lamp_fault' },
        ]),
      );
      expect(store.active()).toHaveLength(2);
      expect(store.shelved()).toEqual([{ id: 'm', shelvedUntil: 9000 }]);
      expect(store.countActive()).toEqual(
        expect.arrayContaining([{ severity: 'critical', family: 'streetlight', n: 1 }]),
      );
      expect(store.countOpen()).toEqual({ critical: 1, major: 1, minor: 0, warning: 1 });
      expect(store.countTransitionsSince(1000, ['raised', 'repeated'])).toBe(2);
      close();
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
      expect(store.putOverride({ ...o, body: { severity: 'minor' } })).toBe(true);
      expect(store.putOverride({ ...o, body: { severity: 'critical' } })).toBe(false);
      expect(store.overrides()).toEqual([{ ...o, body: { severity: 'critical' } }]);
      expect(store.deleteOverride('model', 'lumina-slc300', 'lamp_fault')).toBe(true);
      expect(store.deleteOverride('model', 'lumina-slc300', 'lamp_fault')).toBe(false);
      close();
    });
  });
}
