import {
  type BulkCommand,
  type BulkRecord,
  type BulkRow,
  bulkFromRow,
  type Command,
  type CommandRow,
  type CommandStatus,
  type CommandStore,
  type CreateOptions,
  type CreateResult,
  type DesiredEntry,
  type DesiredRow,
  desiredFromRow,
  fromRow,
  groupDesired,
  type HistoryEntry,
  MAX_HISTORY,
  movableFrom,
  type NewCommand,
  OPEN_STATUSES,
  SUPERSEDED_DETAIL,
  type TransitionExtra,
} from '../commands.ts';
import { inTransaction, type PgPool, type PgQueryable } from './pg-db.ts';

/**
 * The command store of a cluster: every node reads and writes the same rows. A command's
 * creation (idempotency, rate guard, superseding, desired state, insert) runs in one
 * transaction under the device's advisory lock; every status change is one conditional
 * statement, so of two nodes moving the same command only one succeeds.
 */
export class PgCommandStore implements CommandStore {
  readonly #pool: PgPool;

  constructor(pool: PgPool) {
    this.#pool = pool;
  }

  async create(c: NewCommand, opts: CreateOptions = {}): Promise<CreateResult> {
    return inTransaction(this.#pool, async (db) => {
      // Serializes creates per device across nodes: the checks below and the insert are one step.
      await db.query('SELECT pg_advisory_xact_lock(hashtext($1))', [c.deviceId]);
      if (c.idempotencyKey) {
        const existing = await byKey(db, c.deviceId, c.idempotencyKey);
        if (existing) return { command: existing, created: false, superseded: [], desired: null };
      }
      if (opts.guard) opts.guard(await lastRequested(db, c.deviceId, c.name));
      const superseded: Command[] = [];
      let desired: DesiredEntry | null = null;
      if (opts.state) {
        const { rows } = await db.query<{ id: string }>(
          "SELECT id FROM commands WHERE device_id = $1 AND name = $2 AND status = 'queued' ORDER BY seq",
          [c.deviceId, c.name],
        );
        for (const { id } of rows) {
          const moved = await transition(db, id, 'cancelled', c.createdAt, opts.state.actor, {
            detail: SUPERSEDED_DETAIL,
          });
          if (moved) superseded.push(moved);
        }
        const set = await db.query<DesiredRow>(
          `INSERT INTO desired_state (device_id, command, params, state, version, updated_at)
             VALUES ($1, $2, $3, $4, 1, $5)
           ON CONFLICT (device_id, command) DO UPDATE SET params = excluded.params, state = excluded.state,
             version = desired_state.version + 1, updated_at = excluded.updated_at
           RETURNING *`,
          [c.deviceId, c.name, JSON.stringify(c.params), JSON.stringify(opts.state.desired), c.createdAt],
        );
        desired = desiredFromRow(set.rows[0]);
      }
      const { rows } = await db.query<CommandRow>(
        `INSERT INTO commands (id, device_id, name, mode, params, status, requested_by, idempotency_key, bulk_id,
           created_at, updated_at, expires_at, timeout_ms)
         VALUES ($1, $2, $3, $4, $5, 'queued', $6, $7, $8, $9, $9, $10, $11) RETURNING *`,
        [
          c.id,
          c.deviceId,
          c.name,
          c.mode,
          JSON.stringify(c.params),
          c.requestedBy,
          c.idempotencyKey,
          c.bulkId,
          c.createdAt,
          c.expiresAt,
          c.timeoutMs,
        ],
      );
      await db.query(
        "INSERT INTO command_history (command_id, at, status, actor, detail) VALUES ($1, $2, 'queued', $3, NULL)",
        [c.id, c.createdAt, c.requestedBy],
      );
      return { command: fromRow(rows[0]), created: true, superseded, desired };
    });
  }

  async get(id: string): Promise<Command | null> {
    const { rows } = await this.#pool.query<CommandRow>('SELECT * FROM commands WHERE id = $1', [id]);
    return rows[0] ? fromRow(rows[0]) : null;
  }

  transition(
    id: string,
    to: CommandStatus,
    at: number,
    actor: string,
    extra?: TransitionExtra,
  ): Promise<Command | null> {
    return transition(this.#pool, id, to, at, actor, extra);
  }

  async note(id: string, at: number, actor: string, detail: string): Promise<void> {
    // One statement: the count and the insert see the same rows (a device repeating itself stays bounded).
    await this.#pool.query(
      `INSERT INTO command_history (command_id, at, status, actor, detail)
         SELECT c.id, $2::bigint, c.status, $3::text, $4::text FROM commands c
         WHERE c.id = $1 AND (SELECT count(*) FROM command_history h WHERE h.command_id = $1) < $5`,
      [id, at, actor, detail, MAX_HISTORY],
    );
  }

  async history(id: string): Promise<HistoryEntry[]> {
    const { rows } = await this.#pool.query<HistoryEntry>(
      'SELECT at, status, actor, detail FROM command_history WHERE command_id = $1 ORDER BY id LIMIT $2',
      [id, MAX_HISTORY],
    );
    return rows;
  }

  async page(
    deviceId: string,
    opts: { status?: CommandStatus; limit: number; before?: string },
  ): Promise<{ commands: Command[]; next: string | null }> {
    const { rows } = await this.#pool.query<CommandRow>(
      `SELECT * FROM commands WHERE device_id = $1
         AND ($2::text IS NULL OR status = $2)
         AND ($3::text IS NULL OR seq < coalesce((SELECT seq FROM commands WHERE id = $3 AND device_id = $1), 0))
         ORDER BY seq DESC LIMIT $4`,
      [deviceId, opts.status ?? null, opts.before ?? null, opts.limit + 1],
    );
    const more = rows.length > opts.limit;
    const commands = rows.slice(0, opts.limit).map(fromRow);
    return { commands, next: more ? commands[commands.length - 1].id : null };
  }

  async forDevice(
    deviceId: string,
    opts: { status?: CommandStatus[]; limit?: number } = {},
  ): Promise<Command[]> {
    const limit = opts.limit ?? 1000;
    const { rows } = opts.status
      ? await this.#pool.query<CommandRow>(
          'SELECT * FROM commands WHERE device_id = $1 AND status = ANY($2) ORDER BY seq ASC LIMIT $3',
          [deviceId, opts.status, limit],
        )
      : await this.#pool.query<CommandRow>(
          'SELECT * FROM commands WHERE device_id = $1 ORDER BY seq DESC LIMIT $2',
          [deviceId, limit],
        );
    return rows.map(fromRow);
  }

  async open(): Promise<Command[]> {
    const { rows } = await this.#pool.query<CommandRow>(
      'SELECT * FROM commands WHERE status = ANY($1) ORDER BY seq',
      [OPEN_STATUSES],
    );
    return rows.map(fromRow);
  }

  async overdue(now: number, limit: number): Promise<Command[]> {
    const { rows } = await this.#pool.query<CommandRow>(
      `SELECT * FROM commands WHERE status IN ('queued', 'sent', 'delivered')
         AND CASE WHEN status = 'queued' THEN expires_at ELSE sent_at + timeout_ms END <= $1
         ORDER BY seq LIMIT $2`,
      [now, limit],
    );
    return rows.map(fromRow);
  }

  async waitingDevices(before: number, limit: number): Promise<string[]> {
    const { rows } = await this.#pool.query<{ id: string }>(
      "SELECT DISTINCT device_id AS id FROM commands WHERE status = 'queued' AND created_at <= $1 LIMIT $2",
      [before, limit],
    );
    return rows.map((r) => r.id);
  }

  byIdempotencyKey(deviceId: string, key: string): Promise<Command | null> {
    return byKey(this.#pool, deviceId, key);
  }

  lastRequestedAt(deviceId: string, name: string): Promise<number | null> {
    return lastRequested(this.#pool, deviceId, name);
  }

  async desired(deviceId: string): Promise<DesiredEntry[]> {
    const { rows } = await this.#pool.query<DesiredRow>(
      'SELECT * FROM desired_state WHERE device_id = $1 ORDER BY command',
      [deviceId],
    );
    return rows.map(desiredFromRow);
  }

  async allDesired(): Promise<Map<string, DesiredEntry[]>> {
    const { rows } = await this.#pool.query<DesiredRow>(
      'SELECT * FROM desired_state ORDER BY device_id, command',
    );
    return groupDesired(rows);
  }

  async createBulk(b: BulkRecord): Promise<void> {
    await this.#pool.query(
      `INSERT INTO bulk_commands (id, name, params, selector, rate_per_second, requested_by, created_at, device_ids,
         skipped, options, owner)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [
        b.id,
        b.name,
        JSON.stringify(b.params),
        JSON.stringify(b.selector),
        b.ratePerSecond,
        b.requestedBy,
        b.createdAt,
        JSON.stringify(b.deviceIds),
        JSON.stringify(b.skipped),
        JSON.stringify(b.options),
        b.owner,
      ],
    );
  }

  async bulk(id: string): Promise<BulkRecord | null> {
    const { rows } = await this.#pool.query<BulkRow>('SELECT * FROM bulk_commands WHERE id = $1', [id]);
    return rows[0] ? bulkFromRow(rows[0]) : null;
  }

  async unfinishedBulks(owner: string): Promise<BulkRecord[]> {
    const { rows } = await this.#pool.query<BulkRow>(
      `SELECT * FROM bulk_commands b WHERE b.owner = $1 AND b.finished_at IS NULL
         AND (SELECT count(*) FROM commands c WHERE c.bulk_id = b.id) < json_array_length(b.device_ids::json)
       ORDER BY b.created_at`,
      [owner],
    );
    return rows.map(bulkFromRow);
  }

  async finishBulk(
    id: string,
    at: number,
    refused: Array<{ deviceId: string; reason: string }>,
  ): Promise<void> {
    await this.#pool.query(
      `UPDATE bulk_commands SET finished_at = $2,
         skipped = (skipped::jsonb || $3::jsonb)::text WHERE id = $1 AND finished_at IS NULL`,
      [id, at, JSON.stringify(refused)],
    );
  }

  async bulkCommands(bulkId: string): Promise<BulkCommand[]> {
    const { rows } = await this.#pool.query<BulkCommand>(
      `SELECT id, device_id AS "deviceId", status, error, updated_at AS "updatedAt"
         FROM commands WHERE bulk_id = $1 ORDER BY seq`,
      [bulkId],
    );
    return rows;
  }
}

/** One conditional statement: moved only from a status the lifecycle allows, with its history row. */
async function transition(
  db: PgQueryable,
  id: string,
  to: CommandStatus,
  at: number,
  actor: string,
  extra: TransitionExtra = {},
): Promise<Command | null> {
  const { rows } = await db.query<CommandRow>(
    `WITH moved AS (
       UPDATE commands SET status = $2, updated_at = $3,
         sent_at = CASE WHEN $2 = 'sent' THEN $3 ELSE sent_at END,
         result = coalesce($4, result), error = coalesce($5, error)
       WHERE id = $1 AND status = ANY($6) RETURNING *
     ), logged AS (
       INSERT INTO command_history (command_id, at, status, actor, detail) SELECT id, $3::bigint, $2::text, $7::text, $8::text FROM moved
     )
     SELECT * FROM moved`,
    [
      id,
      to,
      at,
      extra.result ? JSON.stringify(extra.result) : null,
      extra.error ?? null,
      movableFrom(to),
      actor,
      extra.detail ?? extra.error ?? null,
    ],
  );
  return rows[0] ? fromRow(rows[0]) : null;
}

async function byKey(db: PgQueryable, deviceId: string, key: string): Promise<Command | null> {
  const { rows } = await db.query<CommandRow>(
    'SELECT * FROM commands WHERE device_id = $1 AND idempotency_key = $2',
    [deviceId, key],
  );
  return rows[0] ? fromRow(rows[0]) : null;
}

async function lastRequested(db: PgQueryable, deviceId: string, name: string): Promise<number | null> {
  const { rows } = await db.query<{ t: number | null }>(
    `SELECT max(created_at) AS t FROM commands WHERE device_id = $1 AND name = $2
       AND status IN ('queued', 'sent', 'delivered', 'succeeded')`,
    [deviceId, name],
  );
  return rows[0].t;
}
