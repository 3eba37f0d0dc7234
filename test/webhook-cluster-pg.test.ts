import { pino } from 'pino';
import { Counter, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPgRegistry, type PgPool } from '../device-registry/pg/pg-db.ts';
import { PgWebhookStore } from '../device-registry/pg/pg-webhooks.ts';
import { systemClock } from '../gateway/clock.ts';
import type { LoggedEvent } from '../gateway/events/event-log.ts';
import { DEFAULT_WEBHOOK_DISPATCH, WebhookDispatcher } from '../gateway/events/webhook-dispatcher.ts';
import { alarmEvent } from './helpers/events.ts';
import { createTestDatabase, type TestDatabase } from './helpers/pg.ts';
import { type Received, startReceiver } from './helpers/webhook-receiver.ts';

/*
 * Issue 11: two gateway nodes' webhook dispatchers on one PostgreSQL database. Each queues the
 * deliveries of its own events; either may attempt any delivery, and each attempt is POSTed by
 * one node only, to a real HTTP receiver.
 */

let db: TestDatabase;
const pools: PgPool[] = [];
const dispatchers: WebhookDispatcher[] = [];
const log = pino({ level: process.env.DEBUG_LOG ?? 'silent' });

async function node(name: string) {
  const pool = await openPgRegistry(db.url, { max: 4 });
  pools.push(pool);
  const store = new PgWebhookStore(pool);
  const outcomes = new Counter({
    name: 'webhook_outcomes',
    help: name,
    labelNames: ['outcome'],
    registers: [new Registry()],
  });
  const dispatcher = new WebhookDispatcher(
    store,
    { clock: systemClock, log, outcomes },
    { ...DEFAULT_WEBHOOK_DISPATCH, maxAttempts: 5, baseDelayMs: 30, maxDelayMs: 200, pollMs: 50 },
  );
  dispatchers.push(dispatcher);
  const attempts = async () => (await outcomes.get()).values.reduce((n, v) => n + v.value, 0);
  return { store, dispatcher, attempts };
}

const logged = (n: number): LoggedEvent => {
  const event = alarmEvent(n);
  return { id: `ev-${n}`, seq: n, event, frame: '' };
};

/** POSTs per delivery id, as the receiver saw them. */
const perDelivery = (received: Received[]) => {
  const out = new Map<string, number>();
  for (const r of received) {
    const id = String(r.headers['x-citygate-delivery']);
    out.set(id, (out.get(id) ?? 0) + 1);
  }
  return out;
};

beforeAll(async () => {
  db = await createTestDatabase('webhook_cluster');
});

afterAll(async () => {
  for (const d of dispatchers) await d.stop();
  for (const p of pools) await p.end();
  await db?.drop();
});

describe('webhook deliveries shared by the nodes of a cluster', () => {
  it('each delivery is POSTed once per attempt, whichever node attempts it', async () => {
    // Every fourth POST fails, so some deliveries are retried, possibly by the other node.
    const receiver = await startReceiver((n, res) => {
      setTimeout(() => {
        res.statusCode = n % 4 === 0 ? 500 : 200;
        res.end('ok');
      }, 5);
    });
    try {
      const a = await node('a');
      const b = await node('b');
      const hook = await a.store.create(
        { url: receiver.url, types: ['alarm'], severities: null, description: null, createdBy: 'admin' },
        Date.now(),
      );
      a.dispatcher.start();
      b.dispatcher.start();
      for (let n = 0; n < 40; n++) (n % 2 ? a : b).dispatcher.onEvent(logged(n));
      await expect.poll(async () => (await a.store.counts(hook.id)).delivered, { timeout: 20_000 }).toBe(40);
      const stored = await a.store.deliveries(hook.id, { limit: 100 });
      expect(stored).toHaveLength(40);
      const posts = perDelivery(receiver.received);
      for (const d of stored) expect(posts.get(String(d.id))).toBe(d.attempts);
      expect(receiver.received).toHaveLength(stored.reduce((n, d) => n + d.attempts, 0));
      expect(stored.some((d) => d.attempts > 1)).toBe(true);
      // Both nodes took part.
      expect(await a.attempts()).toBeGreaterThan(0);
      expect(await b.attempts()).toBeGreaterThan(0);
      await Promise.all([a.dispatcher.stop(), b.dispatcher.stop()]);
    } finally {
      await receiver.close();
    }
  });

  it('deliveries queued by a node that never attempts them (it died) are sent by another', async () => {
    const receiver = await startReceiver((_n, res) => res.end('ok'));
    try {
      const dead = await node('dead');
      const alive = await node('alive');
      const hook = await dead.store.create(
        { url: receiver.url, types: ['alarm'], severities: null, description: null, createdBy: 'admin' },
        Date.now(),
      );
      // Not started: it queues its events but attempts nothing, like a node gone after queueing.
      for (let n = 100; n < 110; n++) dead.dispatcher.onEvent(logged(n));
      await expect.poll(async () => (await dead.store.counts(hook.id)).pending).toBe(10);
      alive.dispatcher.start();
      await expect
        .poll(async () => (await alive.store.counts(hook.id)).delivered, { timeout: 10_000 })
        .toBe(10);
      expect([...perDelivery(receiver.received).values()]).toEqual(Array(10).fill(1));
      expect(await dead.attempts()).toBe(0);
    } finally {
      await receiver.close();
    }
  });

  it('a webhook registered through one node gets the events of another within its poll', async () => {
    const receiver = await startReceiver((_n, res) => res.end('ok'));
    try {
      const a = await node('a2');
      const b = await node('b2');
      b.dispatcher.start();
      await pools[0].query('TRUNCATE webhooks, webhook_deliveries');
      b.dispatcher.onEvent(logged(200)); // B reads the list of webhooks: none
      await new Promise((r) => setTimeout(r, 100));
      const hook = await a.store.create(
        { url: receiver.url, types: ['alarm'], severities: null, description: null, createdBy: 'admin' },
        Date.now(),
      );
      await new Promise((r) => setTimeout(r, 100)); // past B's 50 ms poll
      b.dispatcher.onEvent(logged(201));
      await expect.poll(async () => (await a.store.counts(hook.id)).delivered).toBe(1);
      expect(JSON.parse(receiver.received[0].body).id).toBe('ev-201');
    } finally {
      await receiver.close();
    }
  });
});
