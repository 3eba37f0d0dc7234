import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditStore } from '../device-registry/audit.ts';
import type { DeviceRows } from '../device-registry/device-rows.ts';
import { DeviceStore, type NewDevice } from '../device-registry/devices.ts';
import { hashSecret, isFastHash } from '../device-registry/secrets.ts';
import type { ModelSpec } from '../firmware-specs/define-device.ts';
import { loadSpecs } from '../firmware-specs/index.ts';

/** One registry database: `rows()` opens it again, as a restarted (or another) node would. */
export interface DeviceBackend {
  rows(): DeviceRows;
  audit: AuditStore;
  close(): Promise<void>;
}

/** What DeviceStore does on every registry (SQLite, PostgreSQL): the same suite against each. */
export function deviceStoreContract(name: string, open: () => Promise<DeviceBackend>) {
  describe(`DeviceStore contract: ${name}`, () => {
    let backend: DeviceBackend;
    let specs: ReadonlyMap<string, ModelSpec>;
    const clock = { t: 1_700_000_000_000, now: () => clock.t };
    const store = () => DeviceStore.open(backend.rows(), specs, { clock, nodeId: 'n1' });
    let seq = 0;
    const lamp = (over: Partial<NewDevice> = {}): NewDevice => ({
      id: `lamp-${++seq}`,
      model: 'lumina-slc300',
      firmware: '1.4.0',
      district: 'Hoàn Kiếm',
      ward: 'Hàng Bạc',
      ...over,
    });
    const actions = async (subject: string) =>
      (await backend.audit.list({ subject, limit: 20 })).entries.map((e) => e.action).reverse();

    beforeAll(async () => {
      specs = await loadSpecs();
      backend = await open();
    });
    afterAll(async () => {
      await backend.close();
    });

    it('registers a device; a reopened store reads it back and its secret connects', async () => {
      const a = await store();
      const { device, secret } = await a.register(
        lamp({ lat: 21.03, lon: 105.85, tags: ['pole-1'] }),
        clock.t,
      );
      const b = await store();
      expect(b.get(device.id)).toEqual({ ...device, decommissionedAt: null });
      expect(b.get(device.id)).toMatchObject({ enabled: true, online: false, tags: ['pole-1'], lat: 21.03 });
      expect(await b.verifyCredentials(device.id, secret!)).toBe('ok');
      expect(await b.verifyCredentials(device.id, 'wrong')).toBe('bad');
      expect(await b.verifyCredentials('nobody', secret!)).toBe('unknown');
      await expect(b.register(lamp({ id: device.id }), clock.t)).rejects.toMatchObject({
        code: 'REG_ERR_DEVICE_EXISTS',
      });
    });

    it('disables and enables: refused while disabled, and so after a restart', async () => {
      const a = await store();
      const { device, secret } = await a.register(lamp(), clock.t);
      const changes: string[] = [];
      a.onChange((d, change) => d.id === device.id && changes.push(change));
      await a.setEnabled(device.id, false);
      expect(await a.verifyCredentials(device.id, secret!)).toBe('disabled');
      expect(await (await store()).verifyCredentials(device.id, secret!)).toBe('disabled');
      await a.setEnabled(device.id, true);
      expect(await (await store()).verifyCredentials(device.id, secret!)).toBe('ok');
      expect(changes).toEqual(['disabled', 'enabled']);
    });

    it('patches fleet fields: a new record, the changes audited, kept across a restart', async () => {
      const a = await store();
      const { device } = await a.register(lamp(), clock.t);
      const { device: next, changes } = await a.update(
        device.id,
        { firmware: '2.1.0', ward: 'Tràng Tiền', lat: 21.02, tags: ['a', 'b'] },
        'alice',
      );
      expect(next).not.toBe(device);
      expect(a.get(device.id)).toBe(next);
      expect(changes).toEqual({
        firmware: { from: '1.4.0', to: '2.1.0' },
        ward: { from: 'Hàng Bạc', to: 'Tràng Tiền' },
        lat: { from: null, to: 21.02 },
        tags: { from: [], to: ['a', 'b'] },
      });
      expect((await a.update(device.id, { ward: 'Tràng Tiền' }, 'alice')).changes).toEqual({});
      await expect(a.update(device.id, { firmware: '9.9.9' }, 'alice')).rejects.toMatchObject({
        code: 'REG_ERR_FIRMWARE_UNSUPPORTED',
      });
      expect((await store()).get(device.id)).toMatchObject({
        firmware: '2.1.0',
        ward: 'Tràng Tiền',
        lat: 21.02,
        tags: ['a', 'b'],
      });
      expect(await actions(device.id)).toEqual(['device.firmware', 'device.update']);
    });

    it('rotates a secret: the previous one works during the grace only, across a restart', async () => {
      const a = await store();
      const { device, secret: first } = await a.register(lamp(), clock.t);
      const { secret: second, previousValidUntil } = await a.rotateSecret(device.id, 60, 'alice');
      expect(previousValidUntil).toBe(clock.t + 60_000);
      const b = await store();
      expect(await b.verifyCredentials(device.id, first!)).toBe('ok');
      expect(await b.verifyCredentials(device.id, second)).toBe('ok');
      clock.t += 61_000;
      expect(await b.verifyCredentials(device.id, first!)).toBe('bad');
      const { secret: third } = await b.rotateSecret(device.id, 0, 'alice');
      const c = await store();
      expect(await c.verifyCredentials(device.id, second)).toBe('bad');
      expect(await c.verifyCredentials(device.id, third)).toBe('ok');
      expect(await actions(device.id)).toEqual(['device.rotate_secret', 'device.rotate_secret']);
    });

    it('decommissions for good: refused at CONNECT, its id never registered again', async () => {
      const a = await store();
      const { device, secret } = await a.register(lamp(), clock.t);
      await a.decommission(device.id, 'alice', 'pole removed');
      const b = await store();
      expect(await b.verifyCredentials(device.id, secret!)).toBe('decommissioned');
      expect(b.get(device.id)).toMatchObject({ enabled: false, decommissionedAt: clock.t });
      await expect(b.register(lamp({ id: device.id }), clock.t)).rejects.toMatchObject({
        code: 'REG_ERR_DEVICE_DECOMMISSIONED',
      });
      await expect(b.setEnabled(device.id, true)).rejects.toMatchObject({
        code: 'REG_ERR_DEVICE_DECOMMISSIONED',
      });
      expect(b.list({ ids: [device.id] })).toEqual([]);
      expect(b.list({ ids: [device.id], decommissioned: true })).toHaveLength(1);
      const audit = await backend.audit.list({ subject: device.id, limit: 5 });
      expect(audit.entries[0]).toMatchObject({
        action: 'device.decommission',
        detail: { reason: 'pole removed' },
      });
    });

    it('imports all or nothing; with partial, the valid rows and the problems by line', async () => {
      const a = await store();
      const taken = (await a.register(lamp(), clock.t)).device.id;
      const good = [lamp(), lamp(), lamp()];
      const rows = [
        ...good.map((input, i) => ({ line: i + 2, input })),
        { line: 5, input: lamp({ id: taken }) },
        { line: 6, input: lamp({ firmware: '0.0.1' }) },
      ];
      const none = await a.importDevices(rows, { partial: false, actor: 'ops', now: clock.t });
      expect(none.imported).toEqual([]);
      expect(none.problems.map((p) => [p.line, p.problem.field])).toEqual([
        [5, 'id'],
        [6, 'firmware'],
      ]);
      expect((await store()).get(good[0].id)).toBeUndefined();
      const some = await a.importDevices(rows, { partial: true, actor: 'ops', now: clock.t });
      expect(some.imported.map((i) => i.device.id)).toEqual(good.map((g) => g.id));
      expect(some.problems.map((p) => p.line)).toEqual([5, 6]);
      const b = await store();
      for (const { device, secret } of some.imported)
        expect(await b.verifyCredentials(device.id, secret!)).toBe('ok');
      const audit = await backend.audit.list({ subject: good[1].id, limit: 5 });
      expect(audit.entries.map((e) => [e.action, e.actor, e.detail])).toEqual([
        ['device.register', 'ops', { model: 'lumina-slc300', via: 'import' }],
      ]);
    });

    it('rewrites a scrypt hash (from before issue 12) as SHA-256 once its secret matched', async () => {
      const a = await store();
      const { device } = await a.register(lamp(), clock.t);
      const secret = 'an-old-secret-of-before';
      await backend.rows().update(device.id, { secretHash: await hashSecret(secret, 1024) }, []);
      const b = await store();
      expect(await b.verifyCredentials(device.id, 'wrong')).toBe('bad');
      expect(await b.verifyCredentials(device.id, secret)).toBe('ok');
      const stored = async () => (await backend.rows().loadMany([device.id]))[0].secretHash!;
      await expect.poll(async () => isFastHash(await stored())).toBe(true);
      expect(await (await store()).verifyCredentials(device.id, secret)).toBe('ok');
    });

    it('writes presence, last reading and reported state behind, at flush; a restart reads them back', async () => {
      const a = await store();
      const { device } = await a.register(lamp(), clock.t);
      a.markPresence(device.id, true, clock.t + 1);
      a.recordReading(device.id, { power_w: 42 }, clock.t + 2);
      a.recordState(device.id, { relay: 'on' }, clock.t + 3);
      expect((await store()).get(device.id)).toMatchObject({ online: false, lastReading: null });
      expect(await a.flush()).toBe(1);
      expect(await a.flush()).toBe(0);
      const b = await store();
      expect(b.get(device.id)).toMatchObject({
        online: true,
        lastSeenAt: clock.t + 2,
        lastReading: { power_w: 42 },
        lastReadingAt: clock.t + 2,
        reportedState: { relay: 'on' },
        reportedAt: clock.t + 3,
      });
      await b.resetPresence();
      expect(b.get(device.id)!.online).toBe(false);
      expect((await store()).get(device.id)!.online).toBe(false);
    });
  });
}
