import {
  type Delivery,
  type DeliveryOutcome,
  type DeliveryRow,
  type DeliveryStatus,
  deliveryFromRow,
  KEEP_FINISHED,
  type NewWebhook,
  newWebhook,
  type Webhook,
  type WebhookRow,
  type WebhookStore,
  webhookFromRow,
  webhookParams,
} from '../webhooks.ts';
import { inTransaction, type PgPool } from './pg-db.ts';

/**
 * Webhooks on the cluster's PostgreSQL (issue 11). A delivery is queued by the node where its
 * event happened; any node's dispatcher may attempt it, but only after claiming it with a lease
 * (`FOR UPDATE SKIP LOCKED`, so two nodes claiming at once take different deliveries), and an
 * outcome is recorded only under the lease that claimed it.
 */
export class PgWebhookStore implements WebhookStore {
  readonly #pool: PgPool;

  constructor(pool: PgPool) {
    this.#pool = pool;
  }

  async create(input: NewWebhook, now: number): Promise<Webhook> {
    const w = newWebhook(input, now);
    await this.#pool.query(
      `INSERT INTO webhooks (id, url, secret, types, severities, description, created_at, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      webhookParams(w, now),
    );
    return w;
  }

  async get(id: string): Promise<Webhook | undefined> {
    const { rows } = await this.#pool.query<WebhookRow>('SELECT * FROM webhooks WHERE id = $1', [id]);
    return rows[0] && webhookFromRow(rows[0]);
  }

  async list({ limit, offset }: { limit: number; offset: number }): Promise<Webhook[]> {
    const { rows } = await this.#pool.query<WebhookRow>(
      'SELECT * FROM webhooks ORDER BY created_at, id LIMIT $1 OFFSET $2',
      [limit, offset],
    );
    return rows.map(webhookFromRow);
  }

  async count(): Promise<number> {
    const { rows } = await this.#pool.query<{ n: number }>('SELECT count(*)::int AS n FROM webhooks');
    return rows[0].n;
  }

  async remove(id: string): Promise<boolean> {
    // Its deliveries go with it (ON DELETE CASCADE).
    const { rowCount } = await this.#pool.query('DELETE FROM webhooks WHERE id = $1', [id]);
    return (rowCount ?? 0) > 0;
  }

  async enqueue(
    webhookId: string,
    e: { eventId: string; eventType: string; body: string },
    now: number,
    cap: number,
  ): Promise<number> {
    return inTransaction(this.#pool, async (c) => {
      // Nodes queueing for the same webhook at once take turns, so the cap holds cluster-wide.
      await c.query("SELECT pg_advisory_xact_lock(hashtext('webhook:' || $1))", [webhookId]);
      // Removed through another node since this node read its list of webhooks: nothing to queue.
      const hook = await c.query('SELECT 1 FROM webhooks WHERE id = $1', [webhookId]);
      if (hook.rowCount === 0) return 0;
      const { rows } = await c.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM webhook_deliveries WHERE webhook_id = $1 AND status = 'pending'",
        [webhookId],
      );
      const over = rows[0].n - cap + 1;
      let dropped = 0;
      if (over > 0) {
        const res = await c.query(
          `UPDATE webhook_deliveries SET status = 'dropped', next_attempt_at = NULL,
             last_error = 'dropped: the webhook queue was full', updated_at = $1
           WHERE id IN (SELECT id FROM webhook_deliveries WHERE webhook_id = $2 AND status = 'pending'
                        ORDER BY id LIMIT $3)`,
          [now, webhookId, over],
        );
        dropped = res.rowCount ?? 0;
        await c.query('UPDATE webhooks SET dropped = dropped + $1 WHERE id = $2', [dropped, webhookId]);
      }
      await c.query(
        `INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, body, status, attempts,
           next_attempt_at, created_at, updated_at) VALUES ($1, $2, $3, $4, 'pending', 0, $5, $5, $5)`,
        [webhookId, e.eventId, e.eventType, e.body, now],
      );
      await c.query(
        `DELETE FROM webhook_deliveries WHERE webhook_id = $1 AND status <> 'pending' AND id <=
           (SELECT id FROM webhook_deliveries WHERE webhook_id = $1 AND status <> 'pending'
            ORDER BY id DESC LIMIT 1 OFFSET $2)`,
        [webhookId, KEEP_FINISHED],
      );
      return dropped;
    });
  }

  async claim(now: number, limit: number, until: number): Promise<Delivery[]> {
    const { rows } = await this.#pool.query<DeliveryRow & { due_at: number }>(
      `WITH due AS (SELECT id, next_attempt_at AS due_at FROM webhook_deliveries
                    WHERE status = 'pending' AND next_attempt_at <= $1
                    ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED)
       UPDATE webhook_deliveries d SET next_attempt_at = $3, updated_at = $1
       FROM due WHERE d.id = due.id RETURNING d.*, due.due_at`,
      [now, limit, until],
    );
    // RETURNING keeps no order: oldest due first again.
    rows.sort((a, b) => a.due_at - b.due_at || a.id - b.id);
    return rows.map(deliveryFromRow);
  }

  async nextDueAt(): Promise<number | null> {
    const { rows } = await this.#pool.query<{ at: number | null }>(
      "SELECT min(next_attempt_at) AS at FROM webhook_deliveries WHERE status = 'pending'",
    );
    return rows[0].at;
  }

  async settle(id: number, o: DeliveryOutcome, now: number, until: number): Promise<boolean> {
    const { rowCount } = await this.#pool.query(
      `UPDATE webhook_deliveries SET status = $1, attempts = $2, next_attempt_at = $3,
         last_status_code = $4, last_error = $5, updated_at = $6
       WHERE id = $7 AND status = 'pending' AND next_attempt_at = $8`,
      [o.status, o.attempts, o.nextAttemptAt, o.lastStatusCode, o.lastError, now, id, until],
    );
    return (rowCount ?? 0) > 0;
  }

  async deliveries(
    webhookId: string,
    opts: { status?: DeliveryStatus; limit: number; beforeId?: number },
  ): Promise<Delivery[]> {
    const { rows } = await this.#pool.query<DeliveryRow>(
      `SELECT * FROM webhook_deliveries WHERE webhook_id = $1
         AND ($2::text IS NULL OR status = $2) AND ($3::bigint IS NULL OR id < $3)
       ORDER BY id DESC LIMIT $4`,
      [webhookId, opts.status ?? null, opts.beforeId ?? null, opts.limit],
    );
    return rows.map(deliveryFromRow);
  }

  async counts(webhookId: string): Promise<Record<DeliveryStatus, number>> {
    const out: Record<DeliveryStatus, number> = { pending: 0, delivered: 0, failed: 0, dropped: 0 };
    const { rows } = await this.#pool.query<{ status: DeliveryStatus; n: number }>(
      'SELECT status, count(*)::int AS n FROM webhook_deliveries WHERE webhook_id = $1 GROUP BY status',
      [webhookId],
    );
    for (const r of rows) out[r.status] = r.n;
    return out;
  }
}
