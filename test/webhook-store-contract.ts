import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { WebhookStore } from '../device-registry/webhooks.ts';

/** The behaviour every WebhookStore must show (SQLite now, PostgreSQL with issue 11). */
export function webhookStoreContract(
  name: string,
  open: () => Promise<{ store: WebhookStore; close(): Promise<void> | void }>,
): void {
  describe(`WebhookStore contract: ${name}`, () => {
    let store: WebhookStore;
    let close: () => Promise<void> | void;
    const t0 = 1_800_000_000_000;
    const event = (n: number) => ({ eventId: `e-${n}`, eventType: 'alarm', body: `{"n":${n}}` });
    const hook = () =>
      store.create(
        {
          url: 'http://127.0.0.1:9/x',
          types: ['alarm'],
          severities: ['critical'],
          description: null,
          createdBy: 'admin',
        },
        t0,
      );

    beforeEach(async () => {
      ({ store, close } = await open());
    });
    afterEach(async () => close());

    it('keeps a webhook with its secret and filter, and removes it with its deliveries', async () => {
      const w = await hook();
      expect(await store.get(w.id)).toEqual(w);
      expect(w.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
      await store.enqueue(w.id, event(1), t0, 10);
      expect(await store.count()).toBe(1);
      expect(await store.remove(w.id)).toBe(true);
      expect(await store.get(w.id)).toBeUndefined();
      expect(await store.due(t0, 10)).toEqual([]);
      expect(await store.remove(w.id)).toBe(false);
    });

    it('drops the oldest pending delivery past the cap and counts it', async () => {
      const w = await hook();
      for (let n = 1; n <= 5; n++) expect(await store.enqueue(w.id, event(n), t0 + n, 3)).toBe(n > 3 ? 1 : 0);
      const all = await store.deliveries(w.id, { limit: 10 });
      expect(all.map((d) => `${d.eventId}:${d.status}`)).toEqual([
        'e-5:pending',
        'e-4:pending',
        'e-3:pending',
        'e-2:dropped',
        'e-1:dropped',
      ]);
      expect((await store.get(w.id))?.dropped).toBe(2);
      expect(await store.counts(w.id)).toEqual({ pending: 3, delivered: 0, failed: 0, dropped: 2 });
    });

    it('hands out due deliveries oldest first; a lease and a settle move them on', async () => {
      const w = await hook();
      for (let n = 1; n <= 3; n++) await store.enqueue(w.id, event(n), t0 + n, 10);
      const due = await store.due(t0 + 2, 10);
      expect(due.map((d) => d.eventId)).toEqual(['e-1', 'e-2']);
      await store.lease(due[0].id, t0 + 20_000, t0 + 2);
      expect((await store.due(t0 + 3, 10)).map((d) => d.eventId)).toEqual(['e-2', 'e-3']);
      expect(await store.nextDueAt()).toBe(t0 + 2);
      await store.settle(
        due[1].id,
        { status: 'delivered', attempts: 1, nextAttemptAt: null, lastStatusCode: 200, lastError: null },
        t0 + 5,
      );
      await store.settle(
        due[0].id,
        {
          status: 'pending',
          attempts: 1,
          nextAttemptAt: t0 + 1000,
          lastStatusCode: 500,
          lastError: 'HTTP 500',
        },
        t0 + 5,
      );
      expect(await store.nextDueAt()).toBe(t0 + 3);
      const [d1] = await store.deliveries(w.id, { limit: 1, beforeId: due[1].id });
      expect(d1).toMatchObject({ eventId: 'e-1', attempts: 1, lastStatusCode: 500, lastError: 'HTTP 500' });
      expect(
        (await store.deliveries(w.id, { status: 'delivered', limit: 10 })).map((d) => d.eventId),
      ).toEqual(['e-2']);
    });
  });
}
