import type { Statement } from 'better-sqlite3';
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
} from './commands.ts';
import type { Db } from './db.ts';

/**
 * The command store of single-process mode. better-sqlite3 is synchronous and this process is
 * the only writer: the async methods wrap synchronous code, and a transaction is atomic as is.
 */
export class SqliteCommandStore implements CommandStore {
  readonly #db: Db;
  #seq: number;
  readonly #prepared = new Map<string, Statement>();

  readonly readNow = {
    forDevice: (deviceId: string, limit: number) => this.#forDevice(deviceId, { limit }),
    desired: (deviceId: string) => this.#desired(deviceId),
  };

  constructor(db: Db) {
    this.#db = db;
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

  #history(id: string, at: number, status: CommandStatus, actor: string, detail: string | null): void {
    this.#stmt(
      'INSERT INTO command_history (command_id, at, status, actor, detail) VALUES (?, ?, ?, ?, ?)',
    ).run(id, at, status, actor, detail);
  }

  async create(c: NewCommand, opts: CreateOptions = {}): Promise<CreateResult> {
    return this.#db.transaction((): CreateResult => {
      if (c.idempotencyKey) {
        const existing = this.#byIdempotencyKey(c.deviceId, c.idempotencyKey);
        if (existing) return { command: existing, created: false, superseded: [], desired: null };
      }
      opts.guard?.(this.#lastRequestedAt(c.deviceId, c.name));
      const superseded: Command[] = [];
      let desired: DesiredEntry | null = null;
      if (opts.state) {
        // A newer state command replaces a queued older one: only the latest desired value matters.
        const olds = this.#stmt(
          "SELECT id FROM commands WHERE device_id = ? AND name = ? AND status = 'queued' ORDER BY seq",
        ).all(c.deviceId, c.name) as Array<{ id: string }>;
        for (const old of olds) {
          const moved = this.#transition(old.id, 'cancelled', c.createdAt, opts.state.actor, {
            detail: SUPERSEDED_DETAIL,
          });
          if (moved) superseded.push(moved);
        }
        desired = this.#setDesired(c.deviceId, c.name, c.params, opts.state.desired, c.createdAt);
      }
      this.#stmt(
        `INSERT INTO commands (id, seq, device_id, name, mode, params, status, requested_by, idempotency_key, bulk_id,
           created_at, updated_at, expires_at, timeout_ms)
         VALUES (@id, @seq, @deviceId, @name, @mode, @params, 'queued', @requestedBy, @idempotencyKey, @bulkId,
           @createdAt, @createdAt, @expiresAt, @timeoutMs)`,
      ).run({ ...c, seq: ++this.#seq, params: JSON.stringify(c.params) });
      this.#history(c.id, c.createdAt, 'queued', c.requestedBy, null);
      const command: Command = {
        ...c,
        status: 'queued',
        updatedAt: c.createdAt,
        sentAt: null,
        result: null,
        error: null,
      };
      return { command, created: true, superseded, desired };
    })();
  }

  #get(id: string): Command | null {
    const row = this.#stmt('SELECT * FROM commands WHERE id = ?').get(id) as CommandRow | undefined;
    return row ? fromRow(row) : null;
  }

  async get(id: string): Promise<Command | null> {
    return this.#get(id);
  }

  #transition(
    id: string,
    to: CommandStatus,
    at: number,
    actor: string,
    extra: TransitionExtra = {},
  ): Command | null {
    const from = movableFrom(to);
    return this.#db.transaction(() => {
      const row = this.#stmt(
        `UPDATE commands SET status = @to, updated_at = @at,
           sent_at = CASE WHEN @to = 'sent' THEN @at ELSE sent_at END,
           result = coalesce(@result, result), error = coalesce(@error, error)
         WHERE id = @id AND status IN (SELECT value FROM json_each(@from)) RETURNING *`,
      ).get({
        id,
        to,
        at,
        from: JSON.stringify(from),
        result: extra.result ? JSON.stringify(extra.result) : null,
        error: extra.error ?? null,
      }) as CommandRow | undefined;
      if (!row) return null;
      this.#history(id, at, to, actor, extra.detail ?? extra.error ?? null);
      return fromRow(row);
    })();
  }

  async transition(
    id: string,
    to: CommandStatus,
    at: number,
    actor: string,
    extra?: TransitionExtra,
  ): Promise<Command | null> {
    return this.#transition(id, to, at, actor, extra);
  }

  async note(id: string, at: number, actor: string, detail: string): Promise<void> {
    // One statement, as on PostgreSQL: a device repeating itself adds nothing past MAX_HISTORY entries.
    this.#stmt(
      `INSERT INTO command_history (command_id, at, status, actor, detail)
         SELECT c.id, ?, c.status, ?, ? FROM commands c
         WHERE c.id = ? AND (SELECT count(*) FROM command_history h WHERE h.command_id = c.id) < ?`,
    ).run(at, actor, detail, id, MAX_HISTORY);
  }

  async history(id: string): Promise<HistoryEntry[]> {
    return this.#stmt(
      'SELECT at, status, actor, detail FROM command_history WHERE command_id = ? ORDER BY id LIMIT ?',
    ).all(id, MAX_HISTORY) as HistoryEntry[];
  }

  async page(
    deviceId: string,
    opts: { status?: CommandStatus; limit: number; before?: string },
  ): Promise<{ commands: Command[]; next: string | null }> {
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
    }) as CommandRow[];
    const more = rows.length > opts.limit;
    const commands = rows.slice(0, opts.limit).map(fromRow);
    return { commands, next: more ? commands[commands.length - 1].id : null };
  }

  #forDevice(deviceId: string, opts: { status?: CommandStatus[]; limit?: number } = {}): Command[] {
    const statuses = opts.status ?? null;
    const rows = this.#stmt(
      `SELECT * FROM commands WHERE device_id = ? ${statuses ? `AND status IN (${statuses.map(() => '?').join(',')})` : ''}
         ORDER BY seq ${statuses ? 'ASC' : 'DESC'} LIMIT ?`,
    ).all(deviceId, ...(statuses ?? []), opts.limit ?? 1000) as CommandRow[];
    return rows.map(fromRow);
  }

  async forDevice(deviceId: string, opts?: { status?: CommandStatus[]; limit?: number }): Promise<Command[]> {
    return this.#forDevice(deviceId, opts);
  }

  async open(): Promise<Command[]> {
    return (
      this.#stmt(
        `SELECT * FROM commands WHERE status IN (${OPEN_STATUSES.map((s) => `'${s}'`).join(', ')}) ORDER BY seq`,
      ).all() as CommandRow[]
    ).map(fromRow);
  }

  async overdue(now: number, limit: number): Promise<Command[]> {
    return (
      this.#stmt(
        `SELECT * FROM commands WHERE status IN ('queued', 'sent', 'delivered')
           AND CASE WHEN status = 'queued' THEN expires_at ELSE sent_at + timeout_ms END <= ?
           ORDER BY seq LIMIT ?`,
      ).all(now, limit) as CommandRow[]
    ).map(fromRow);
  }

  async waitingDevices(before: number, limit: number): Promise<string[]> {
    return (
      this.#stmt(
        "SELECT DISTINCT device_id AS id FROM commands WHERE status = 'queued' AND created_at <= ? LIMIT ?",
      ).all(before, limit) as Array<{ id: string }>
    ).map((r) => r.id);
  }

  #byIdempotencyKey(deviceId: string, key: string): Command | null {
    const row = this.#stmt('SELECT * FROM commands WHERE device_id = ? AND idempotency_key = ?').get(
      deviceId,
      key,
    ) as CommandRow | undefined;
    return row ? fromRow(row) : null;
  }

  async byIdempotencyKey(deviceId: string, key: string): Promise<Command | null> {
    return this.#byIdempotencyKey(deviceId, key);
  }

  #lastRequestedAt(deviceId: string, name: string): number | null {
    const row = this.#stmt(
      "SELECT max(created_at) AS t FROM commands WHERE device_id = ? AND name = ? AND status IN ('queued', 'sent', 'delivered', 'succeeded')",
    ).get(deviceId, name) as { t: number | null };
    return row.t;
  }

  async lastRequestedAt(deviceId: string, name: string): Promise<number | null> {
    return this.#lastRequestedAt(deviceId, name);
  }

  #setDesired(
    deviceId: string,
    command: string,
    params: Record<string, unknown>,
    state: Record<string, unknown>,
    at: number,
  ): DesiredEntry {
    const row = this.#stmt(
      `INSERT INTO desired_state (device_id, command, params, state, version, updated_at) VALUES (?, ?, ?, ?, 1, ?)
         ON CONFLICT (device_id, command) DO UPDATE SET params = excluded.params, state = excluded.state,
           version = version + 1, updated_at = excluded.updated_at
         RETURNING *`,
    ).get(deviceId, command, JSON.stringify(params), JSON.stringify(state), at) as DesiredRow;
    return desiredFromRow(row);
  }

  #desired(deviceId: string): DesiredEntry[] {
    return (
      this.#stmt('SELECT * FROM desired_state WHERE device_id = ? ORDER BY command').all(
        deviceId,
      ) as DesiredRow[]
    ).map(desiredFromRow);
  }

  async desired(deviceId: string): Promise<DesiredEntry[]> {
    return this.#desired(deviceId);
  }

  async allDesired(): Promise<Map<string, DesiredEntry[]>> {
    return groupDesired(
      this.#stmt('SELECT * FROM desired_state ORDER BY device_id, command').all() as DesiredRow[],
    );
  }

  async createBulk(b: BulkRecord): Promise<void> {
    // One node: the owner is not stored (every unfinished roll-out is this process's own).
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

  #bulk(id: string): BulkRecord | null {
    const r = this.#stmt('SELECT * FROM bulk_commands WHERE id = ?').get(id) as BulkRow | undefined;
    return r ? bulkFromRow(r) : null;
  }

  async bulk(id: string): Promise<BulkRecord | null> {
    return this.#bulk(id);
  }

  async unfinishedBulks(_owner: string): Promise<BulkRecord[]> {
    return (
      this.#stmt(
        `SELECT b.* FROM bulk_commands b WHERE b.finished_at IS NULL
           AND (SELECT count(*) FROM commands c WHERE c.bulk_id = b.id) < json_array_length(b.device_ids)
         ORDER BY b.created_at`,
      ).all() as BulkRow[]
    ).map(bulkFromRow);
  }

  async finishBulk(
    id: string,
    at: number,
    refused: Array<{ deviceId: string; reason: string }>,
  ): Promise<void> {
    const b = this.#bulk(id);
    if (!b) return;
    this.#stmt('UPDATE bulk_commands SET finished_at = ?, skipped = ? WHERE id = ?').run(
      at,
      JSON.stringify([...b.skipped, ...refused]),
      id,
    );
  }

  async bulkCommands(bulkId: string): Promise<BulkCommand[]> {
    return this.#stmt(
      'SELECT id, device_id AS deviceId, status, error, updated_at AS updatedAt FROM commands WHERE bulk_id = ? ORDER BY seq',
    ).all(bulkId) as BulkCommand[];
  }
}
