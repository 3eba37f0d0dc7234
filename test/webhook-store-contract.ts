import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { WebhookStore } from '../device-registry/webhooks.ts';

/** The behaviour every WebhookStore must show (SQLite and PostgreSQL, issue 11). */
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
      expect(await store.claim(t0, 10, t0 + 1000)).toEqual([]);
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

    it('hands out due deliveries oldest first under a lease; only the lease holder settles', async () => {
      const w = await hook();
      for (let n = 1; n <= 3; n++) await store.enqueue(w.id, event(n), t0 + n, 10);
      const lease = t0 + 20_000;
      const [first] = await store.claim(t0 + 2, 1, lease);
      expect(first).toMatchObject({ eventId: 'e-1', nextAttemptAt: lease, attempts: 0 });
      // A second claimer (another node) does not get the leased delivery.
      const rest = await store.claim(t0 + 3, 10, lease);
      expect(rest.map((d) => d.eventId)).toEqual(['e-2', 'e-3']);
      expect(await store.claim(t0 + 4, 10, lease)).toEqual([]);
      expect(await store.nextDueAt()).toBe(lease);
      const delivered = {
        status: 'delivered',
        attempts: 1,
        nextAttemptAt: null,
        lastStatusCode: 200,
        lastError: null,
      } as const;
      expect(await store.settle(rest[0].id, delivered, t0 + 5, lease)).toBe(true);
      expect(
        await store.settle(
          first.id,
          {
            status: 'pending',
            attempts: 1,
            nextAttemptAt: t0 + 1000,
            lastStatusCode: 500,
            lastError: 'HTTP 500',
          },
          t0 + 5,
          lease,
        ),
      ).toBe(true);
      expect(await store.nextDueAt()).toBe(t0 + 1000);
      // A holder whose lease is over (the delivery was claimed again) records nothing.
      expect(await store.settle(rest[1].id, delivered, t0 + 6, lease - 1)).toBe(false);
      const [again] = await store.claim(t0 + 1000, 1, t0 + 40_000);
      expect(again).toMatchObject({ eventId: 'e-1', attempts: 1 });
      expect(await store.settle(again.id, delivered, t0 + 1001, lease)).toBe(false);
      const [d1] = await store.deliveries(w.id, { limit: 1, beforeId: rest[0].id });
      expect(d1).toMatchObject({ eventId: 'e-1', attempts: 1, lastStatusCode: 500, lastError: 'HTTP 500' });
      expect(
        (await store.deliveries(w.id, { status: 'delivered', limit: 10 })).map((d) => d.eventId),
      ).toEqual(['e-2']);
    });
  });
}
