import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LightingOverride, LightingStore } from '../device-registry/lighting.ts';
import { hanoiCalendar, hanoiPrograms } from '../firmware-specs/lighting/hanoi.ts';

/** What any LightingStore (SQLite and PostgreSQL) must do. */
export function lightingStoreContract(
  name: string,
  open: () => Promise<{ store: LightingStore; close(): void | Promise<void> }>,
) {
  describe(`LightingStore contract: ${name}`, () => {
    let store: LightingStore;
    let close: () => void | Promise<void>;
    beforeEach(async () => {
      ({ store, close } = await open());
    });
    afterEach(async () => {
      await close();
    });

    it('seeds programs and calendar once; later seeds change nothing', async () => {
      expect(await store.seed(hanoiPrograms, hanoiCalendar, 1)).toBe(true);
      expect(await store.seed([], { ...hanoiCalendar, assignments: [] }, 2)).toBe(false);
      expect((await store.programs()).map((p) => p.id)).toEqual(hanoiPrograms.map((p) => p.id).sort());
      expect(await store.calendar()).toMatchObject({
        version: 1,
        updatedBy: 'defaults',
        calendar: hanoiCalendar,
      });
    });

    it('keeps programs by id and calendar versions in order', async () => {
      expect(await store.putProgram(hanoiPrograms[0], 5, 'ana')).toBe(true);
      expect(await store.putProgram({ ...hanoiPrograms[0], name: 'renamed' }, 6, 'bao')).toBe(false);
      expect((await store.program(hanoiPrograms[0].id))?.name).toBe('renamed');
      expect((await store.programs())[0]).toMatchObject({ updatedAt: 6, updatedBy: 'bao' });
      expect(await store.deleteProgram(hanoiPrograms[0].id)).toBe(true);
      expect(await store.deleteProgram(hanoiPrograms[0].id)).toBe(false);
      expect(await store.putCalendar(hanoiCalendar, 7, 'ana')).toBe(1);
      expect(await store.putCalendar({ ...hanoiCalendar, exceptions: [] }, 8, 'bao')).toBe(2);
      expect(await store.calendar()).toMatchObject({
        version: 2,
        updatedBy: 'bao',
        calendar: { exceptions: [] },
      });
    });

    it('remembers the last executed step per night and unit, and prunes old nights', async () => {
      await store.markExecuted([
        { night: '2026-11-29', unit: 'a', step: 3, at: 1, executedAt: 1 },
        { night: '2026-11-30', unit: 'a', step: 0, at: 2, executedAt: 2 },
      ]);
      await store.markExecuted([{ night: '2026-11-30', unit: 'a', step: 1, at: 3, executedAt: 3 }]);
      expect(await store.executed('2026-11-30', 'a')).toEqual({
        night: '2026-11-30',
        unit: 'a',
        step: 1,
        at: 3,
        executedAt: 3,
      });
      expect(await store.executed('2026-11-30', 'b')).toBeUndefined();
      expect((await store.executedFrom('2026-11-29')).map((s) => `${s.night} ${s.unit} ${s.step}`)).toEqual([
        '2026-11-29 a 3',
        '2026-11-30 a 1',
      ]);
      expect(await store.pruneExecuted('2026-11-30')).toBe(1);
      expect(await store.executed('2026-11-29', 'a')).toBeUndefined();
    });

    it('keeps overrides until ended, once', async () => {
      const o: LightingOverride = {
        id: 'lov_1',
        group: { ward: 'Hàng Bạc' },
        deviceIds: ['sl-1', 'sl-2'],
        level: 20,
        reason: 'incident',
        createdAt: 10,
        createdBy: 'ana',
        until: 100,
        mode: 'duration',
        endedAt: null,
        endedBy: null,
      };
      await store.createOverride(o);
      await store.createOverride({ ...o, id: 'lov_2', createdAt: 11 });
      expect((await store.activeOverrides()).map((x) => x.id)).toEqual(['lov_1', 'lov_2']);
      expect(await store.endOverride('lov_1', 50, 'bao')).toBe(true);
      expect(await store.endOverride('lov_1', 60, 'bao')).toBe(false);
      expect(await store.override('lov_1')).toEqual({ ...o, endedAt: 50, endedBy: 'bao' });
      expect((await store.activeOverrides()).map((x) => x.id)).toEqual(['lov_2']);
      expect((await store.recentOverrides(10)).map((x) => x.id)).toEqual(['lov_2', 'lov_1']);
    });
  });
}
