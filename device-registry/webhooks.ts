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

/**
 * Webhooks and their deliveries. Every method is asynchronous so that PostgreSQL (issue 11) fits
 * the same interface; the SQLite store answers at once.
 */
export interface WebhookStore {
  create(input: NewWebhook, now: number): Promise<Webhook>;
  get(id: string): Promise<Webhook | undefined>;
  list(opts: { limit: number; offset: number }): Promise<Webhook[]>;
  count(): Promise<number>;
  remove(id: string): Promise<boolean>;
  /** Queues a delivery; past `cap` pending ones the oldest pending is dropped. Returns how many were. */
  enqueue(
    webhookId: string,
    event: { eventId: string; eventType: string; body: string },
    now: number,
    cap: number,
  ): Promise<number>;
  /**
   * Takes up to `limit` due pending deliveries, oldest due first, and leases them until `until`
   * (their next attempt moves there): until then no one else, on any node, takes them again.
   */
  claim(now: number, limit: number, until: number): Promise<Delivery[]>;
  /** When the next pending delivery is due, or null when none is pending. */
  nextDueAt(): Promise<number | null>;
  /**
   * Records an attempt's outcome if the delivery is still under the lease `until` that claimed
   * it; false when the lease had run out and someone else took the delivery.
   */
  settle(id: number, outcome: DeliveryOutcome, now: number, until: number): Promise<boolean>;
  deliveries(
    webhookId: string,
    opts: { status?: DeliveryStatus; limit: number; beforeId?: number },
  ): Promise<Delivery[]>;
  counts(webhookId: string): Promise<Record<DeliveryStatus, number>>;
}

export interface WebhookRow {
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

export interface DeliveryRow {
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

export const webhookFromRow = (r: WebhookRow): Webhook => ({
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

export const deliveryFromRow = (r: DeliveryRow): Delivery => ({
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
export const KEEP_FINISHED = 1000;

/** A new webhook with its id and signing secret. */
export const newWebhook = (input: NewWebhook, now: number): Webhook => ({
  ...input,
  id: `wh_${randomBytes(6).toString('hex')}`,
  secret: `whsec_${randomBytes(32).toString('base64url')}`,
  createdAt: now,
  dropped: 0,
});

/** The insert's parameters, in the column order both stores' INSERTs name. */
export const webhookParams = (w: Webhook, now: number) => [
  w.id,
  w.url,
  w.secret,
  JSON.stringify(w.types),
  w.severities === null ? null : JSON.stringify(w.severities),
  w.description,
  now,
  w.createdBy,
];

export class SqliteWebhookStore implements WebhookStore {
  readonly #db: Db;
  readonly #enqueue;
  readonly #claim;

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
    const due = db.prepare(
      `SELECT * FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= ?
       ORDER BY next_attempt_at, id LIMIT ?`,
    );
    const lease = db.prepare(
      'UPDATE webhook_deliveries SET next_attempt_at = ?, updated_at = ? WHERE id = ?',
    );
    this.#claim = db.transaction((now: number, limit: number, until: number) =>
      (due.all(now, limit) as DeliveryRow[]).map((r) => {
        lease.run(until, now, r.id);
        return deliveryFromRow({ ...r, next_attempt_at: until, updated_at: now });
      }),
    );
  }

  async create(input: NewWebhook, now: number): Promise<Webhook> {
    const webhook = newWebhook(input, now);
    this.#db
      .prepare(
        `INSERT INTO webhooks (id, url, secret, types, severities, description, created_at, created_by)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(...webhookParams(webhook, now));
    return webhook;
  }

  async get(id: string): Promise<Webhook | undefined> {
    const row = this.#db.prepare('SELECT * FROM webhooks WHERE id = ?').get(id) as WebhookRow | undefined;
    return row && webhookFromRow(row);
  }

  async list({ limit, offset }: { limit: number; offset: number }): Promise<Webhook[]> {
    const rows = this.#db
      .prepare('SELECT * FROM webhooks ORDER BY created_at, id LIMIT ? OFFSET ?')
      .all(limit, offset) as WebhookRow[];
    return rows.map(webhookFromRow);
  }

  async count(): Promise<number> {
    return (this.#db.prepare('SELECT COUNT(*) AS n FROM webhooks').get() as { n: number }).n;
  }

  async remove(id: string): Promise<boolean> {
    // Its deliveries go with it (ON DELETE CASCADE).
    return this.#db.prepare('DELETE FROM webhooks WHERE id = ?').run(id).changes > 0;
  }

  async enqueue(
    webhookId: string,
    event: { eventId: string; eventType: string; body: string },
    now: number,
    cap: number,
  ): Promise<number> {
    return this.#enqueue(webhookId, event, now, cap);
  }

  async claim(now: number, limit: number, until: number): Promise<Delivery[]> {
    return this.#claim(now, limit, until);
  }

  async nextDueAt(): Promise<number | null> {
    const row = this.#db
      .prepare("SELECT MIN(next_attempt_at) AS at FROM webhook_deliveries WHERE status = 'pending'")
      .get() as { at: number | null };
    return row.at;
  }

  async settle(id: number, o: DeliveryOutcome, now: number, until: number): Promise<boolean> {
    const { changes } = this.#db
      .prepare(
        `UPDATE webhook_deliveries SET status = ?, attempts = ?, next_attempt_at = ?,
           last_status_code = ?, last_error = ?, updated_at = ?
         WHERE id = ? AND status = 'pending' AND next_attempt_at = ?`,
      )
      .run(o.status, o.attempts, o.nextAttemptAt, o.lastStatusCode, o.lastError, now, id, until);
    return changes > 0;
  }

  async deliveries(
    webhookId: string,
    opts: { status?: DeliveryStatus; limit: number; beforeId?: number },
  ): Promise<Delivery[]> {
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

  async counts(webhookId: string): Promise<Record<DeliveryStatus, number>> {
    const out: Record<DeliveryStatus, number> = { pending: 0, delivered: 0, failed: 0, dropped: 0 };
    const rows = this.#db
      .prepare('SELECT status, COUNT(*) AS n FROM webhook_deliveries WHERE webhook_id = ? GROUP BY status')
      .all(webhookId) as Array<{ status: DeliveryStatus; n: number }>;
    for (const r of rows) out[r.status] = r.n;
    return out;
  }
}
