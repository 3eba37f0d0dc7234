import type { Family } from '../firmware-specs/families.ts';
import type { Alarm, AlarmState, AlarmTransition, Severity } from '../gateway/alarms/types.ts';
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
} from './alarm-rows.ts';
import type { Db } from './db.ts';

/** An alarm as stored; times in epoch milliseconds. */
export type AlarmRecord = Alarm<number>;

/** One step of an alarm's life: who did what, when, and the state it left the alarm in. */
export interface AlarmHistoryEntry {
  at: number;
  transition: AlarmTransition;
  state: AlarmState;
  actor: string;
  detail: string | null;
}

export interface AlarmFilter {
  states?: readonly AlarmState[];
  severity?: Severity;
  family?: string;
  district?: string;
  deviceId?: string;
  shelved?: boolean;
  limit: number;
  offset: number;
}

/** A rule override as stored: the key columns plus the engine's override object, kept whole. */
export interface StoredOverride {
  scope: 'model' | 'district' | 'device';
  key: string;
  ruleId: string;
  body: Record<string, unknown>;
  updatedAt: number;
  updatedBy: string;
}

/** Open (not closed) alarms counted by district and severity: the figure the summaries show. */
export interface OpenAlarmCount {
  district: string;
  severity: Severity;
  n: number;
}

/**
 * Alarm persistence. The lifecycle lives in the service; a store only reads and writes. `save`
 * writes an alarm with its history entry atomically, and only if the alarm is still as the step
 * found it (`prev`; null for a new alarm, which must not meet another open alarm of its device
 * and rule): with several nodes on one database, the step that read a stale row loses and the
 * service reads again. Every method is asynchronous so that PostgreSQL (issue 11) fits the same
 * interface; the SQLite store answers at once.
 */
export interface AlarmStore {
  get(id: string): Promise<AlarmRecord | undefined>;
  /** The alarm of this device and rule that is not closed yet, if any. */
  openFor(deviceId: string, ruleId: string): Promise<AlarmRecord | undefined>;
  /** False, writing nothing, when `prev` is stale or a new alarm meets an open one. */
  save(alarm: AlarmRecord, entry: AlarmHistoryEntry, prev: AlarmRecord | null): Promise<boolean>;
  list(filter: AlarmFilter): Promise<{ total: number; alarms: AlarmRecord[] }>;
  /**
   * The alarm's newest `last` history entries, oldest first. A chattering alarm adds one per
   * repeat (device-driven), so a read is bounded: MAX_ALARM_HISTORY by default.
   */
  history(alarmId: string, last?: number): Promise<AlarmHistoryEntry[]>;
  /** Alarms whose condition holds (active_*): what the engine restores after a restart. */
  active(): Promise<Array<{ deviceId: string; ruleId: string }>>;
  shelved(): Promise<Array<{ id: string; shelvedUntil: number }>>;
  countActive(): Promise<Array<{ severity: Severity; family: Family; n: number }>>;
  /** Alarms not closed, by district and severity (the summaries' "open alarms"). */
  countOpen(): Promise<OpenAlarmCount[]>;
  /** History entries of these transitions at or after `at` (the flood measure). */
  countTransitionsSince(at: number, transitions: readonly AlarmTransition[]): Promise<number>;
  overrides(): Promise<StoredOverride[]>;
  /** Returns true when the override is new. */
  putOverride(o: StoredOverride): Promise<boolean>;
  deleteOverride(scope: string, key: string, ruleId: string): Promise<boolean>;
}

const named = (n: string) => `@${n}`;

/** The SQLite store: asynchronous only in its signature, each method one synchronous statement or transaction. */
export class SqliteAlarmStore implements AlarmStore {
  readonly #db: Db;
  readonly #stmts;
  readonly #save;
  readonly #putOverride;

  constructor(db: Db) {
    this.#db = db;
    this.#stmts = {
      get: db.prepare('SELECT * FROM alarms WHERE id = ?'),
      openFor: db.prepare("SELECT * FROM alarms WHERE device_id = ? AND rule_id = ? AND state <> 'closed'"),
      insert: db.prepare(
        `INSERT INTO alarms (${ALARM_COLUMNS}) VALUES (${ALARM_PARAM_NAMES.map(named).join(', ')})
         ON CONFLICT DO NOTHING`,
      ),
      update: db.prepare(
        `UPDATE alarms SET ${ALARM_UPDATES.map(([col, param]) => `${col} = @${param}`).join(', ')}
         WHERE id = @id AND ${UNCHANGED_SQL(named, 'IS')}`,
      ),
      history: db.prepare(
        'INSERT INTO alarm_history (alarm_id, at, transition, state, actor, detail) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      historyOf: db.prepare(
        `SELECT at, transition, state, actor, detail FROM (
           SELECT * FROM alarm_history WHERE alarm_id = ? ORDER BY id DESC LIMIT ?) ORDER BY id`,
      ),
      active: db.prepare(
        "SELECT device_id AS deviceId, rule_id AS ruleId FROM alarms WHERE state IN ('active_unacknowledged', 'active_acknowledged')",
      ),
      shelved: db.prepare(
        "SELECT id, shelved_until AS shelvedUntil FROM alarms WHERE shelved_until IS NOT NULL AND state <> 'closed'",
      ),
      countActive: db.prepare(
        `SELECT severity, family, count(*) AS n FROM alarms
         WHERE state IN ('active_unacknowledged', 'active_acknowledged') GROUP BY severity, family`,
      ),
      countOpen: db.prepare(
        "SELECT district, severity, count(*) AS n FROM alarms WHERE state <> 'closed' GROUP BY district, severity",
      ),
      overrides: db.prepare('SELECT * FROM alarm_rule_overrides ORDER BY scope, key, rule_id'),
      putOverride: db.prepare(
        `INSERT INTO alarm_rule_overrides (scope, key, rule_id, body, updated_at, updated_by)
         VALUES (@scope, @key, @ruleId, @body, @updatedAt, @updatedBy)
         ON CONFLICT (scope, key, rule_id) DO UPDATE SET body = excluded.body,
           updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
      ),
      hasOverride: db.prepare(
        'SELECT 1 FROM alarm_rule_overrides WHERE scope = ? AND key = ? AND rule_id = ?',
      ),
      deleteOverride: db.prepare(
        'DELETE FROM alarm_rule_overrides WHERE scope = ? AND key = ? AND rule_id = ?',
      ),
    };
    this.#save = db.transaction((a: AlarmRecord, e: AlarmHistoryEntry, prev: AlarmRecord | null) => {
      const row = alarmParams(a);
      const written =
        prev === null
          ? this.#stmts.insert.run(row).changes
          : this.#stmts.update.run({ ...row, ...prevParams(prev) }).changes;
      if (written === 0) return false;
      this.#stmts.history.run(a.id, e.at, e.transition, e.state, e.actor, e.detail);
      return true;
    });
    this.#putOverride = db.transaction((o: StoredOverride) => {
      const existed = this.#stmts.hasOverride.get(o.scope, o.key, o.ruleId) !== undefined;
      this.#stmts.putOverride.run({ ...o, body: JSON.stringify(o.body) });
      return !existed;
    });
  }

  async get(id: string): Promise<AlarmRecord | undefined> {
    const r = this.#stmts.get.get(id) as AlarmRow | undefined;
    return r && fromRow(r);
  }

  async openFor(deviceId: string, ruleId: string): Promise<AlarmRecord | undefined> {
    const r = this.#stmts.openFor.get(deviceId, ruleId) as AlarmRow | undefined;
    return r && fromRow(r);
  }

  async save(a: AlarmRecord, e: AlarmHistoryEntry, prev: AlarmRecord | null): Promise<boolean> {
    return this.#save(a, e, prev);
  }

  async list(f: AlarmFilter): Promise<{ total: number; alarms: AlarmRecord[] }> {
    // Built from a fixed set of fragments; every value is a bound parameter.
    const { clause, args } = alarmWhere(f, () => '?');
    const total = (
      this.#db.prepare(`SELECT count(*) AS n FROM alarms ${clause}`).get(...args) as { n: number }
    ).n;
    const rows = this.#db
      .prepare(
        `SELECT * FROM alarms ${clause} ORDER BY ${SEVERITY_RANK}, raised_at DESC, id LIMIT ? OFFSET ?`,
      )
      .all(...args, f.limit, f.offset) as AlarmRow[];
    return { total, alarms: rows.map(fromRow) };
  }

  async history(alarmId: string, last = MAX_ALARM_HISTORY): Promise<AlarmHistoryEntry[]> {
    return this.#stmts.historyOf.all(alarmId, last) as AlarmHistoryEntry[];
  }

  async active(): Promise<Array<{ deviceId: string; ruleId: string }>> {
    return this.#stmts.active.all() as Array<{ deviceId: string; ruleId: string }>;
  }

  async shelved(): Promise<Array<{ id: string; shelvedUntil: number }>> {
    return this.#stmts.shelved.all() as Array<{ id: string; shelvedUntil: number }>;
  }

  async countActive(): Promise<Array<{ severity: Severity; family: Family; n: number }>> {
    return this.#stmts.countActive.all() as Array<{ severity: Severity; family: Family; n: number }>;
  }

  async countOpen(): Promise<OpenAlarmCount[]> {
    return this.#stmts.countOpen.all() as OpenAlarmCount[];
  }

  async countTransitionsSince(at: number, transitions: readonly AlarmTransition[]): Promise<number> {
    const marks = transitions.map(() => '?').join(', ');
    return (
      this.#db
        .prepare(`SELECT count(*) AS n FROM alarm_history WHERE at >= ? AND transition IN (${marks})`)
        .get(at, ...transitions) as { n: number }
    ).n;
  }

  async overrides(): Promise<StoredOverride[]> {
    return (this.#stmts.overrides.all() as OverrideRow[]).map(overrideFromRow);
  }

  async putOverride(o: StoredOverride): Promise<boolean> {
    return this.#putOverride(o);
  }

  async deleteOverride(scope: string, key: string, ruleId: string): Promise<boolean> {
    return this.#stmts.deleteOverride.run(scope, key, ruleId).changes > 0;
  }
}
