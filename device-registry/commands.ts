import { randomBytes } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import type { Db } from './db.ts';

/** Command lifecycle of docs/design.md, "Commands". */
export const COMMAND_STATUS = {
  queued: 'queued',
  sent: 'sent',
  delivered: 'delivered',
  succeeded: 'succeeded',
  failed: 'failed',
  timed_out: 'timed_out',
  expired: 'expired',
  cancelled: 'cancelled',
} as const;
export type CommandStatus = keyof typeof COMMAND_STATUS;
export const FINAL_STATUSES: ReadonlySet<CommandStatus> = new Set([
  'succeeded',
  'failed',
  'timed_out',
  'expired',
  'cancelled',
]);

/** Which transitions the lifecycle allows; anything else is ignored (e.g. a reply after a timeout). */
const NEXT: Record<CommandStatus, readonly CommandStatus[]> = {
  queued: ['sent', 'expired', 'cancelled'],
  sent: ['delivered', 'succeeded', 'failed', 'timed_out'],
  delivered: ['succeeded', 'failed', 'timed_out'],
  succeeded: [],
  failed: [],
  timed_out: [],
  expired: [],
  cancelled: [],
};

export interface Command {
  id: string;
  deviceId: string;
  name: string;
  mode: 'state' | 'action';
  params: Record<string, unknown>;
  status: CommandStatus;
  requestedBy: string;
  idempotencyKey: string | null;
  bulkId: string | null;
  createdAt: number;
  updatedAt: number;
  expiresAt: number;
  timeoutMs: number;
  sentAt: number | null;
  result: Record<string, unknown> | null;
  error: string | null;
}

export interface HistoryEntry {
  at: number;
  status: CommandStatus;
  actor: string;
  detail: string | null;
}

export interface BulkRecord {
  id: string;
  name: string;
  params: Record<string, unknown>;
  selector: Record<string, unknown>;
  ratePerSecond: number;
  requestedBy: string;
  createdAt: number;
  deviceIds: string[];
  skipped: Array<{ deviceId: string; reason: string }>;
  options: { ttlSeconds?: number; timeoutSeconds?: number; confirm?: boolean };
}

interface Row {
  id: string;
  device_id: string;
  name: string;
  mode: 'state' | 'action';
  params: string;
  status: CommandStatus;
  requested_by: string;
  idempotency_key: string | null;
  bulk_id: string | null;
  created_at: number;
  updated_at: number;
  expires_at: number;
  timeout_ms: number;
  sent_at: number | null;
  result: string | null;
  error: string | null;
}

/**
 * A stored JSON object read back. Rows written by older versions may hold anything (a reply's
 * `"result":"x"` was stored as it came): such a value is shown as its text, cut short, so the
 * command stays readable.
 */
function storedObject(text: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through: kept as text
  }
  return { unreadable_stored_value: text.length > 500 ? `${text.slice(0, 500)}…` : text };
}

const fromRow = (r: Row): Command => ({
  id: r.id,
  deviceId: r.device_id,
  name: r.name,
  mode: r.mode,
  params: storedObject(r.params),
  status: r.status,
  requestedBy: r.requested_by,
  idempotencyKey: r.idempotency_key,
  bulkId: r.bulk_id,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  expiresAt: r.expires_at,
  timeoutMs: r.timeout_ms,
  sentAt: r.sent_at,
  result: r.result === null ? null : storedObject(r.result),
  error: r.error,
});

/** History entries kept per command: its lifecycle (at most 5) and a few late replies. */
export const MAX_HISTORY = 20;

export const newCommandId = () => `cmd_${Date.now().toString(36)}${randomBytes(5).toString('hex')}`;

/** Commands, their history, desired state and bulk roll-outs, persisted in the registry. */
export class CommandStore {
  readonly #db: Db;
  readonly #stmts;
  #seq: number;
  readonly #prepared = new Map<string, Statement>();

  constructor(db: Db) {
    this.#db = db;
    this.#stmts = {
      insert: db.prepare(
        `INSERT INTO commands (id, seq, device_id, name, mode, params, status, requested_by, idempotency_key, bulk_id,
           created_at, updated_at, expires_at, timeout_ms)
         VALUES (@id, @seq, @deviceId, @name, @mode, @params, 'queued', @requestedBy, @idempotencyKey, @bulkId,
           @createdAt, @createdAt, @expiresAt, @timeoutMs)`,
      ),
      history: db.prepare(
        'INSERT INTO command_history (command_id, at, status, actor, detail) VALUES (?, ?, ?, ?, ?)',
      ),
      get: db.prepare('SELECT * FROM commands WHERE id = ?'),
      update: db.prepare(
        `UPDATE commands SET status = @status, updated_at = @at, sent_at = coalesce(@sentAt, sent_at),
           result = coalesce(@result, result), error = coalesce(@error, error) WHERE id = @id AND status = @from`,
      ),
    };
    this.#seq = (db.prepare('SELECT coalesce(max(seq), 0) AS s FROM commands').get() as { s: number }).s;
  }

  /** Prepared once per SQL text: preparing costs more than running these small statements. */
  #stmt(sql: string): Statement {
    let st = this.#prepared.get(sql);
    if (!st) {
      st = this.#db.prepare(sql);
      this.#prepared.set(sql, st);
    }
    return st;
  }

  create(c: Omit<Command, 'status' | 'updatedAt' | 'sentAt' | 'result' | 'error'>): Command {
    this.#db.transaction(() => {
      this.#stmts.insert.run({ ...c, seq: ++this.#seq, params: JSON.stringify(c.params) });
      this.#stmts.history.run(c.id, c.createdAt, 'queued', c.requestedBy, null);
    })();
    return { ...c, status: 'queued', updatedAt: c.createdAt, sentAt: null, result: null, error: null };
  }

  get(id: string): Command | null {
    const row = this.#stmts.get.get(id) as Row | undefined;
    return row ? fromRow(row) : null;
  }

  /** Moves a command on if the lifecycle allows it; returns the new command or null if it did not move. */
  transition(
    id: string,
    to: CommandStatus,
    at: number,
    actor: string,
    extra: { detail?: string; result?: Record<string, unknown>; error?: string } = {},
  ): Command | null {
    const current = this.get(id);
    if (!current || !NEXT[current.status].includes(to)) return null;
    const update = {
      id,
      from: current.status,
      status: to,
      at,
      sentAt: to === 'sent' ? at : null,
      result: extra.result ? JSON.stringify(extra.result) : null,
      error: extra.error ?? null,
    };
    const moved = this.#db.transaction(() => {
      const { changes } = this.#stmts.update.run(update);
      if (changes) this.#stmts.history.run(id, at, to, actor, extra.detail ?? extra.error ?? null);
      return changes > 0;
    })();
    if (!moved) return null;
    return {
      ...current,
      status: to,
      updatedAt: at,
      sentAt: update.sentAt ?? current.sentAt,
      result: extra.result ?? current.result,
      error: extra.error ?? current.error,
    };
  }

  /**
   * Notes something in a command's history that does not change its status (a late reply). A
   * device repeating itself adds nothing past MAX_HISTORY entries: the history stays bounded.
   */
  note(id: string, at: number, actor: string, detail: string): void {
    const c = this.get(id);
    if (!c) return;
    const { n } = this.#stmt('SELECT count(*) AS n FROM command_history WHERE command_id = ?').get(id) as {
      n: number;
    };
    if (n < MAX_HISTORY) this.#stmts.history.run(id, at, c.status, actor, detail);
  }

  history(id: string): HistoryEntry[] {
    return this.#stmt(
      'SELECT at, status, actor, detail FROM command_history WHERE command_id = ? ORDER BY id LIMIT ?',
    ).all(id, MAX_HISTORY) as HistoryEntry[];
  }

  /** One page of a device's commands, newest first; `before` is the last command id of the previous page. */
  page(
    deviceId: string,
    opts: { status?: CommandStatus; limit: number; before?: string },
  ): { commands: Command[]; next: string | null } {
    const rows = this.#stmt(
      `SELECT * FROM commands WHERE device_id = @deviceId
         AND (@status IS NULL OR status = @status)
         AND (@before IS NULL OR seq < coalesce((SELECT seq FROM commands WHERE id = @before AND device_id = @deviceId), 0))
         ORDER BY seq DESC LIMIT @limit`,
    ).all({
      deviceId,
      status: opts.status ?? null,
      before: opts.before ?? null,
      limit: opts.limit + 1,
    }) as Row[];
    const more = rows.length > opts.limit;
    const commands = rows.slice(0, opts.limit).map(fromRow);
    return { commands, next: more ? commands[commands.length - 1].id : null };
  }

  forDevice(deviceId: string, opts: { status?: CommandStatus[]; limit?: number } = {}): Command[] {
    const statuses = opts.status ?? null;
    const rows = this.#stmt(
      `SELECT * FROM commands WHERE device_id = ? ${statuses ? `AND status IN (${statuses.map(() => '?').join(',')})` : ''}
         ORDER BY seq ${statuses ? 'ASC' : 'DESC'} LIMIT ?`,
    ).all(deviceId, ...(statuses ?? []), opts.limit ?? 1000) as Row[];
    return rows.map(fromRow);
  }

  open(): Command[] {
    return (
      this.#stmt(
        "SELECT * FROM commands WHERE status IN ('queued', 'sent', 'delivered') ORDER BY seq",
      ).all() as Row[]
    ).map(fromRow);
  }

  byIdempotencyKey(deviceId: string, key: string): Command | null {
    const row = this.#stmt('SELECT * FROM commands WHERE device_id = ? AND idempotency_key = ?').get(
      deviceId,
      key,
    ) as Row | undefined;
    return row ? fromRow(row) : null;
  }

  /** When a command of this name last went, or is about to go, to the device (the rate guard). */
  lastRequestedAt(deviceId: string, name: string): number | null {
    const row = this.#stmt(
      "SELECT max(created_at) AS t FROM commands WHERE device_id = ? AND name = ? AND status IN ('queued', 'sent', 'delivered', 'succeeded')",
    ).get(deviceId, name) as { t: number | null };
    return row.t;
  }

  setDesired(
    deviceId: string,
    command: string,
    params: Record<string, unknown>,
    state: Record<string, unknown>,
    at: number,
  ): number {
    const row = this.#stmt(
      `INSERT INTO desired_state (device_id, command, params, state, version, updated_at) VALUES (?, ?, ?, ?, 1, ?)
         ON CONFLICT (device_id, command) DO UPDATE SET params = excluded.params, state = excluded.state,
           version = version + 1, updated_at = excluded.updated_at
         RETURNING version`,
    ).get(deviceId, command, JSON.stringify(params), JSON.stringify(state), at) as { version: number };
    return row.version;
  }

  desired(deviceId: string): Array<{
    command: string;
    params: Record<string, unknown>;
    state: Record<string, unknown>;
    version: number;
    updatedAt: number;
  }> {
    return (
      this.#stmt(
        'SELECT command, params, state, version, updated_at FROM desired_state WHERE device_id = ? ORDER BY command',
      ).all(deviceId) as Array<{
        command: string;
        params: string;
        state: string;
        version: number;
        updated_at: number;
      }>
    ).map((r) => ({
      command: r.command,
      params: JSON.parse(r.params),
      state: JSON.parse(r.state),
      version: r.version,
      updatedAt: r.updated_at,
    }));
  }

  createBulk(b: BulkRecord): void {
    this.#stmt(
      `INSERT INTO bulk_commands (id, name, params, selector, rate_per_second, requested_by, created_at, device_ids, skipped, options)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
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
    );
  }

  bulk(id: string): BulkRecord | null {
    const r = this.#stmt('SELECT * FROM bulk_commands WHERE id = ?').get(id) as
      | Record<string, never>
      | undefined;
    if (!r) return null;
    return {
      id: r.id,
      name: r.name,
      params: JSON.parse(r.params),
      selector: JSON.parse(r.selector),
      ratePerSecond: r.rate_per_second,
      requestedBy: r.requested_by,
      createdAt: r.created_at,
      deviceIds: JSON.parse(r.device_ids),
      skipped: JSON.parse(r.skipped),
      options: JSON.parse(r.options),
    };
  }

  /** Roll-outs whose every device has not yet been given its command (interrupted by a stop). */
  unfinishedBulks(): BulkRecord[] {
    const ids = this.#stmt(
      `SELECT b.id FROM bulk_commands b WHERE b.finished_at IS NULL
           AND (SELECT count(*) FROM commands c WHERE c.bulk_id = b.id) < json_array_length(b.device_ids)`,
    ).all() as Array<{ id: string }>;
    return ids.map((r) => this.bulk(r.id)!);
  }

  finishBulk(id: string, at: number, refused: Array<{ deviceId: string; reason: string }>): void {
    const b = this.bulk(id);
    if (!b) return;
    this.#stmt('UPDATE bulk_commands SET finished_at = ?, skipped = ? WHERE id = ?').run(
      at,
      JSON.stringify([...b.skipped, ...refused]),
      id,
    );
  }

  bulkCommands(bulkId: string): Array<Pick<Command, 'id' | 'deviceId' | 'status' | 'error' | 'updatedAt'>> {
    return this.#stmt(
      'SELECT id, device_id AS deviceId, status, error, updated_at AS updatedAt FROM commands WHERE bulk_id = ? ORDER BY seq',
    ).all(bulkId) as never;
  }
}
