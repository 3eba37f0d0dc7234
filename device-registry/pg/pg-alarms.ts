import type { Family } from '../../firmware-specs/families.ts';
import type { AlarmTransition, Severity } from '../../gateway/alarms/types.ts';
import {
  ALARM_COLUMNS,
  ALARM_PARAM_NAMES,
  ALARM_UPDATES,
  type AlarmRow,
  alarmParams,
  alarmWhere,
  fromRow,
  MAX_ALARM_HISTORY,
  type OverrideRow,
  overrideFromRow,
  prevParams,
  SEVERITY_RANK,
  UNCHANGED_SQL,
} from '../alarm-rows.ts';
import type {
  AlarmFilter,
  AlarmHistoryEntry,
  AlarmRecord,
  AlarmStore,
  OpenAlarmCount,
  StoredOverride,
} from '../alarms.ts';
import { inTransaction, type PgPool } from './pg-db.ts';

/** Turns `@name` parameters into `$n` and the values of an object into the matching array. */
function positional(names: readonly string[]) {
  const index = new Map(names.map((n, i) => [n, `$${i + 1}`]));
  return {
    p: (name: string) => index.get(name) as string,
    values: (o: Record<string, unknown>) => names.map((n) => o[n] ?? null),
  };
}

const PREV_NAMES = ['pState', 'pUpdatedAt', 'pOccurrences', 'pShelvedUntil', 'pAcknowledgedAt'];
const ins = positional(ALARM_PARAM_NAMES);
// PostgreSQL refuses a parameter the statement does not use: only what an update binds.
const upd = positional(['id', ...ALARM_UPDATES.map(([, param]) => param), ...PREV_NAMES]);

/**
 * Insert if no alarm of this device and rule is open (the partial unique index decides, so two
 * nodes raising at once cannot both succeed); nothing is returned when it was refused.
 */
const INSERT = `INSERT INTO alarms (${ALARM_COLUMNS}) VALUES (${ALARM_PARAM_NAMES.map(ins.p).join(', ')})
  ON CONFLICT DO NOTHING RETURNING id`;
/** Update only if the row is still the one the step read: a stale step changes nothing. */
const UPDATE = `UPDATE alarms SET ${ALARM_UPDATES.map(([col, param]) => `${col} = ${upd.p(param)}`).join(', ')}
  WHERE id = ${upd.p('id')} AND ${UNCHANGED_SQL(upd.p, 'IS NOT DISTINCT FROM')} RETURNING id`;

/**
 * Alarms on the cluster's PostgreSQL (issue 11). A step's alarm row and history row are written in
 * one transaction, conditionally, so several nodes may move the same alarm: one wins each step.
 */
export class PgAlarmStore implements AlarmStore {
  readonly #pool: PgPool;

  constructor(pool: PgPool) {
    this.#pool = pool;
  }

  async get(id: string): Promise<AlarmRecord | undefined> {
    const { rows } = await this.#pool.query<AlarmRow>('SELECT * FROM alarms WHERE id = $1', [id]);
    return rows[0] && fromRow(rows[0]);
  }

  async openFor(deviceId: string, ruleId: string): Promise<AlarmRecord | undefined> {
    const { rows } = await this.#pool.query<AlarmRow>(
      "SELECT * FROM alarms WHERE device_id = $1 AND rule_id = $2 AND state <> 'closed'",
      [deviceId, ruleId],
    );
    return rows[0] && fromRow(rows[0]);
  }

  async save(a: AlarmRecord, e: AlarmHistoryEntry, prev: AlarmRecord | null): Promise<boolean> {
    const row = alarmParams(a);
    return inTransaction(this.#pool, async (c) => {
      const written =
        prev === null
          ? await c.query(INSERT, ins.values(row))
          : await c.query(UPDATE, upd.values({ ...row, ...prevParams(prev) }));
      if (written.rowCount === 0) return false;
      await c.query(
        'INSERT INTO alarm_history (alarm_id, at, transition, state, actor, detail) VALUES ($1, $2, $3, $4, $5, $6)',
        [a.id, e.at, e.transition, e.state, e.actor, e.detail],
      );
      return true;
    });
  }

  async list(f: AlarmFilter): Promise<{ total: number; alarms: AlarmRecord[] }> {
    // Built from a fixed set of fragments; every value is a bound parameter.
    const { clause, args } = alarmWhere(f, (n) => `$${n}`);
    const count = await this.#pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM alarms ${clause}`,
      args,
    );
    const n = args.length;
    const { rows } = await this.#pool.query<AlarmRow>(
      `SELECT * FROM alarms ${clause} ORDER BY ${SEVERITY_RANK}, raised_at DESC, id LIMIT $${n + 1} OFFSET $${n + 2}`,
      [...args, f.limit, f.offset],
    );
    return { total: count.rows[0].n, alarms: rows.map(fromRow) };
  }

  async history(alarmId: string, last = MAX_ALARM_HISTORY): Promise<AlarmHistoryEntry[]> {
    const { rows } = await this.#pool.query<AlarmHistoryEntry>(
      `SELECT at, transition, state, actor, detail FROM (
         SELECT * FROM alarm_history WHERE alarm_id = $1 ORDER BY id DESC LIMIT $2) h ORDER BY id`,
      [alarmId, last],
    );
    return rows;
  }

  async active(): Promise<Array<{ deviceId: string; ruleId: string }>> {
    const { rows } = await this.#pool.query<{ deviceId: string; ruleId: string }>(
      `SELECT device_id AS "deviceId", rule_id AS "ruleId" FROM alarms
       WHERE state IN ('active_unacknowledged', 'active_acknowledged')`,
    );
    return rows;
  }

  async shelved(): Promise<Array<{ id: string; shelvedUntil: number }>> {
    const { rows } = await this.#pool.query<{ id: string; shelvedUntil: number }>(
      `SELECT id, shelved_until AS "shelvedUntil" FROM alarms
       WHERE shelved_until IS NOT NULL AND state <> 'closed'`,
    );
    return rows;
  }

  async countActive(): Promise<Array<{ severity: Severity; family: Family; n: number }>> {
    const { rows } = await this.#pool.query<{ severity: Severity; family: Family; n: number }>(
      `SELECT severity, family, count(*)::int AS n FROM alarms
       WHERE state IN ('active_unacknowledged', 'active_acknowledged') GROUP BY severity, family`,
    );
    return rows;
  }

  async countOpen(): Promise<OpenAlarmCount[]> {
    const { rows } = await this.#pool.query<OpenAlarmCount>(
      `SELECT district, severity, count(*)::int AS n FROM alarms WHERE state <> 'closed'
       GROUP BY district, severity`,
    );
    return rows;
  }

  async countTransitionsSince(at: number, transitions: readonly AlarmTransition[]): Promise<number> {
    const { rows } = await this.#pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM alarm_history WHERE at >= $1 AND transition = ANY($2)',
      [at, transitions],
    );
    return rows[0].n;
  }

  async overrides(): Promise<StoredOverride[]> {
    const { rows } = await this.#pool.query<OverrideRow>(
      'SELECT * FROM alarm_rule_overrides ORDER BY scope, key, rule_id',
    );
    return rows.map(overrideFromRow);
  }

  async putOverride(o: StoredOverride): Promise<boolean> {
    // xmax = 0 only on a row this statement inserted (not one it updated).
    const { rows } = await this.#pool.query<{ created: boolean }>(
      `INSERT INTO alarm_rule_overrides (scope, key, rule_id, body, updated_at, updated_by)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (scope, key, rule_id) DO UPDATE SET body = excluded.body,
         updated_at = excluded.updated_at, updated_by = excluded.updated_by
       RETURNING (xmax = 0) AS created`,
      [o.scope, o.key, o.ruleId, JSON.stringify(o.body), o.updatedAt, o.updatedBy],
    );
    return rows[0].created;
  }

  async deleteOverride(scope: string, key: string, ruleId: string): Promise<boolean> {
    const { rowCount } = await this.#pool.query(
      'DELETE FROM alarm_rule_overrides WHERE scope = $1 AND key = $2 AND rule_id = $3',
      [scope, key, ruleId],
    );
    return (rowCount ?? 0) > 0;
  }
}
