import { randomBytes } from 'node:crypto';
import type { Db } from './db.ts';

/**
 * A delivery's life: pending (waiting for its first or next attempt) → delivered, or failed
 * after the last attempt, or dropped when its webhook's queue overflowed (the oldest goes).
 */
export const DELIVERY_STATUS = {
  pending: 'pending',
  delivered: 'delivered',
  failed: 'failed',
  dropped: 'dropped',
} as const;
export type DeliveryStatus = keyof typeof DELIVERY_STATUS;

export interface Webhook {
  id: string;
  url: string;
  /** The HMAC-SHA256 signing key. Kept as is: a signing key cannot be stored as a hash. */
  secret: string;
  types: string[];
  /** Alarm severities to send; null sends every severity. */
  severities: string[] | null;
  description: string | null;
  createdAt: number;
  createdBy: string;
  /** Deliveries dropped because the webhook's queue was full. */
  dropped: number;
}

export type NewWebhook = Pick<Webhook, 'url' | 'types' | 'severities' | 'description' | 'createdBy'>;

export interface Delivery {
  id: number;
  webhookId: string;
  eventId: string;
  eventType: string;
  body: string;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: number | null;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface DeliveryOutcome {
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: number | null;
  lastStatusCode: number | null;
  lastError: string | null;
}

type Awaitable<T> = T | Promise<T>;

/**
 * Webhooks and their deliveries. Callers await every method, so a PostgreSQL implementation
 * (issue 11) can be asynchronous; the SQLite one answers at once.
 */
export interface WebhookStore {
  create(input: NewWebhook, now: number): Awaitable<Webhook>;
  get(id: string): Awaitable<Webhook | undefined>;
  list(opts: { limit: number; offset: number }): Awaitable<Webhook[]>;
  count(): Awaitable<number>;
  remove(id: string): Awaitable<boolean>;
  /** Queues a delivery; past `cap` pending ones the oldest pending is dropped. Returns how many were. */
  enqueue(
    webhookId: string,
    event: { eventId: string; eventType: string; body: string },
    now: number,
    cap: number,
  ): Awaitable<number>;
  /** Pending deliveries whose attempt is due, oldest due first. */
  due(now: number, limit: number): Awaitable<Delivery[]>;
  /** When the next pending delivery is due, or null when none is pending. */
  nextDueAt(): Awaitable<number | null>;
  /** Moves a delivery's next attempt (an attempt in flight leases it until its timeout). */
  lease(id: number, until: number, now: number): Awaitable<void>;
  settle(id: number, outcome: DeliveryOutcome, now: number): Awaitable<void>;
  deliveries(
    webhookId: string,
    opts: { status?: DeliveryStatus; limit: number; beforeId?: number },
  ): Awaitable<Delivery[]>;
  counts(webhookId: string): Awaitable<Record<DeliveryStatus, number>>;
}

interface WebhookRow {
  id: string;
  url: string;
  secret: string;
  types: string;
  severities: string | null;
  description: string | null;
  created_at: number;
  created_by: string;
  dropped: number;
}

interface DeliveryRow {
  id: number;
  webhook_id: string;
  event_id: string;
  event_type: string;
  body: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: number | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

const webhookFromRow = (r: WebhookRow): Webhook => ({
  id: r.id,
  url: r.url,
  secret: r.secret,
  types: JSON.parse(r.types),
  severities: r.severities === null ? null : JSON.parse(r.severities),
  description: r.description,
  createdAt: r.created_at,
  createdBy: r.created_by,
  dropped: r.dropped,
});

const deliveryFromRow = (r: DeliveryRow): Delivery => ({
  id: r.id,
  webhookId: r.webhook_id,
  eventId: r.event_id,
  eventType: r.event_type,
  body: r.body,
  status: r.status,
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at,
  lastStatusCode: r.last_status_code,
  lastError: r.last_error,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** Finished deliveries kept per webhook for GET /api/webhooks/{id}/deliveries; older ones are pruned. */
const KEEP_FINISHED = 1000;

export class SqliteWebhookStore implements WebhookStore {
  readonly #db: Db;
  readonly #enqueue;

  constructor(db: Db) {
    this.#db = db;
    const pending = db.prepare(
      "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE webhook_id = ? AND status = 'pending'",
    );
    const dropOldest = db.prepare(
      `UPDATE webhook_deliveries SET status = 'dropped', next_attempt_at = NULL,
         last_error = 'dropped: the webhook queue was full', updated_at = ?
       WHERE id IN (SELECT id FROM webhook_deliveries WHERE webhook_id = ? AND status = 'pending'
                    ORDER BY id LIMIT ?)`,
    );
    const countDropped = db.prepare('UPDATE webhooks SET dropped = dropped + ? WHERE id = ?');
    const insert = db.prepare(
      `INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, body, status, attempts,
         next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, 'pending', 0, ?, ?, ?)`,
    );
    const prune = db.prepare(
      `DELETE FROM webhook_deliveries WHERE webhook_id = ? AND status != 'pending' AND id <=
         (SELECT id FROM webhook_deliveries WHERE webhook_id = ? AND status != 'pending'
          ORDER BY id DESC LIMIT 1 OFFSET ?)`,
    );
    this.#enqueue = db.transaction(
      (
        webhookId: string,
        e: { eventId: string; eventType: string; body: string },
        now: number,
        cap: number,
      ) => {
        const over = (pending.get(webhookId) as { n: number }).n - cap + 1;
        let dropped = 0;
        if (over > 0) {
          dropped = dropOldest.run(now, webhookId, over).changes;
          countDropped.run(dropped, webhookId);
        }
        insert.run(webhookId, e.eventId, e.eventType, e.body, now, now, now);
        prune.run(webhookId, webhookId, KEEP_FINISHED);
        return dropped;
      },
    );
  }

  create(input: NewWebhook, now: number): Webhook {
    const webhook: Webhook = {
      ...input,
      id: `wh_${randomBytes(6).toString('hex')}`,
      secret: `whsec_${randomBytes(32).toString('base64url')}`,
      createdAt: now,
      dropped: 0,
    };
    this.#db
      .prepare(
        `INSERT INTO webhooks (id, url, secret, types, severities, description, created_at, created_by)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        webhook.id,
        webhook.url,
        webhook.secret,
        JSON.stringify(webhook.types),
        webhook.severities === null ? null : JSON.stringify(webhook.severities),
        webhook.description,
        now,
        webhook.createdBy,
      );
    return webhook;
  }

  get(id: string): Webhook | undefined {
    const row = this.#db.prepare('SELECT * FROM webhooks WHERE id = ?').get(id) as WebhookRow | undefined;
    return row && webhookFromRow(row);
  }

  list({ limit, offset }: { limit: number; offset: number }): Webhook[] {
    const rows = this.#db
      .prepare('SELECT * FROM webhooks ORDER BY created_at, id LIMIT ? OFFSET ?')
      .all(limit, offset) as WebhookRow[];
    return rows.map(webhookFromRow);
  }

  count(): number {
    return (this.#db.prepare('SELECT COUNT(*) AS n FROM webhooks').get() as { n: number }).n;
  }

  remove(id: string): boolean {
    // Its deliveries go with it (ON DELETE CASCADE).
    return this.#db.prepare('DELETE FROM webhooks WHERE id = ?').run(id).changes > 0;
  }

  enqueue(
    webhookId: string,
    event: { eventId: string; eventType: string; body: string },
    now: number,
    cap: number,
  ): number {
    return this.#enqueue(webhookId, event, now, cap);
  }

  due(now: number, limit: number): Delivery[] {
    const rows = this.#db
      .prepare(
        `SELECT * FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= ?
         ORDER BY next_attempt_at, id LIMIT ?`,
      )
      .all(now, limit) as DeliveryRow[];
    return rows.map(deliveryFromRow);
  }

  nextDueAt(): number | null {
    const row = this.#db
      .prepare("SELECT MIN(next_attempt_at) AS at FROM webhook_deliveries WHERE status = 'pending'")
      .get() as { at: number | null };
    return row.at;
  }

  lease(id: number, until: number, now: number): void {
    this.#db
      .prepare('UPDATE webhook_deliveries SET next_attempt_at = ?, updated_at = ? WHERE id = ?')
      .run(until, now, id);
  }

  settle(id: number, o: DeliveryOutcome, now: number): void {
    this.#db
      .prepare(
        `UPDATE webhook_deliveries SET status = ?, attempts = ?, next_attempt_at = ?,
           last_status_code = ?, last_error = ?, updated_at = ? WHERE id = ?`,
      )
      .run(o.status, o.attempts, o.nextAttemptAt, o.lastStatusCode, o.lastError, now, id);
  }

  deliveries(
    webhookId: string,
    opts: { status?: DeliveryStatus; limit: number; beforeId?: number },
  ): Delivery[] {
    const rows = this.#db
      .prepare(
        `SELECT * FROM webhook_deliveries WHERE webhook_id = ? AND (? IS NULL OR status = ?)
         AND (? IS NULL OR id < ?) ORDER BY id DESC LIMIT ?`,
      )
      .all(
        webhookId,
        opts.status ?? null,
        opts.status ?? null,
        opts.beforeId ?? null,
        opts.beforeId ?? null,
        opts.limit,
      ) as DeliveryRow[];
    return rows.map(deliveryFromRow);
  }

  counts(webhookId: string): Record<DeliveryStatus, number> {
    const out: Record<DeliveryStatus, number> = { pending: 0, delivered: 0, failed: 0, dropped: 0 };
    const rows = this.#db
      .prepare('SELECT status, COUNT(*) AS n FROM webhook_deliveries WHERE webhook_id = ? GROUP BY status')
      .all(webhookId) as Array<{ status: DeliveryStatus; n: number }>;
    for (const r of rows) out[r.status] = r.n;
    return out;
  }
}
