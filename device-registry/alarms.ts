import type { Family } from '../firmware-specs/families.ts';
import {
  type Alarm,
  type AlarmState,
  type AlarmTransition,
  SEVERITIES,
  type Severity,
} from '../gateway/alarms/types.ts';
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

/**
 * Alarm persistence. The lifecycle lives in the service; a store only reads and writes, and
 * `save` writes an alarm with its history entry atomically, so a PostgreSQL store (issue 11)
 * implements the same few statements in one transaction.
 */
export interface AlarmStore {
  get(id: string): AlarmRecord | undefined;
  /** The alarm of this device and rule that is not closed yet, if any. */
  openFor(deviceId: string, ruleId: string): AlarmRecord | undefined;
  save(alarm: AlarmRecord, entry: AlarmHistoryEntry): void;
  list(filter: AlarmFilter): { total: number; alarms: AlarmRecord[] };
  history(alarmId: string): AlarmHistoryEntry[];
  /** Alarms whose condition holds (active_*): what the engine restores after a restart. */
  active(): Array<{ deviceId: string; ruleId: string }>;
  shelved(): Array<{ id: string; shelvedUntil: number }>;
  countActive(): Array<{ severity: Severity; family: Family; n: number }>;
  /** Alarms not closed, by severity (the events summary's "open alarms"). */
  /** Alarms not closed, by severity; in one district when given. */
  countOpen(district?: string): Record<Severity, number>;
  /** History entries of these transitions at or after `at` (the flood measure). */
  countTransitionsSince(at: number, transitions: readonly AlarmTransition[]): number;
  overrides(): StoredOverride[];
  /** Returns true when the override is new. */
  putOverride(o: StoredOverride): boolean;
  deleteOverride(scope: string, key: string, ruleId: string): boolean;
}

interface Row {
  id: string;
  device_id: string;
  rule_id: string;
  family: Family;
  district: string;
  ward: string;
  severity: Severity;
  state: AlarmState;
  message: string;
  value: string | null;
  occurrences: number;
  raised_at: number;
  updated_at: number;
  acknowledged_at: number | null;
  acknowledged_by: string | null;
  cleared_at: number | null;
  shelved_until: number | null;
  shelved_by: string | null;
  shelve_reason: string | null;
}

const fromRow = (r: Row): AlarmRecord => ({
  id: r.id,
  deviceId: r.device_id,
  family: r.family,
  district: r.district,
  ward: r.ward,
  ruleId: r.rule_id,
  severity: r.severity,
  state: r.state,
  message: r.message,
  value: r.value === null ? null : JSON.parse(r.value),
  occurrences: r.occurrences,
  raisedAt: r.raised_at,
  updatedAt: r.updated_at,
  acknowledgedAt: r.acknowledged_at,
  acknowledgedBy: r.acknowledged_by,
  clearedAt: r.cleared_at,
  shelvedUntil: r.shelved_until,
  shelvedBy: r.shelved_by,
  shelveReason: r.shelve_reason,
});

/** Severity order for lists: the most urgent first. */
const SEVERITY_RANK = `CASE severity WHEN 'critical' THEN 0 WHEN 'major' THEN 1 WHEN 'minor' THEN 2 ELSE 3 END`;

export class SqliteAlarmStore implements AlarmStore {
  readonly #db: Db;
  readonly #stmts;

  constructor(db: Db) {
    this.#db = db;
    this.#stmts = {
      get: db.prepare('SELECT * FROM alarms WHERE id = ?'),
      openFor: db.prepare("SELECT * FROM alarms WHERE device_id = ? AND rule_id = ? AND state <> 'closed'"),
      upsert: db.prepare(
        `INSERT INTO alarms (id, device_id, rule_id, family, district, ward, severity, state, message, value,
           occurrences, raised_at, updated_at, acknowledged_at, acknowledged_by, cleared_at, shelved_until,
           shelved_by, shelve_reason)
         VALUES (@id, @deviceId, @ruleId, @family, @district, @ward, @severity, @state, @message, @value,
           @occurrences, @raisedAt, @updatedAt, @acknowledgedAt, @acknowledgedBy, @clearedAt, @shelvedUntil,
           @shelvedBy, @shelveReason)
         ON CONFLICT (id) DO UPDATE SET severity = excluded.severity, state = excluded.state,
           message = excluded.message, value = excluded.value, occurrences = excluded.occurrences,
           updated_at = excluded.updated_at, acknowledged_at = excluded.acknowledged_at,
           acknowledged_by = excluded.acknowledged_by, cleared_at = excluded.cleared_at,
           shelved_until = excluded.shelved_until, shelved_by = excluded.shelved_by,
           shelve_reason = excluded.shelve_reason`,
      ),
      history: db.prepare(
        'INSERT INTO alarm_history (alarm_id, at, transition, state, actor, detail) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      historyOf: db.prepare(
        'SELECT at, transition, state, actor, detail FROM alarm_history WHERE alarm_id = ? ORDER BY id',
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
        "SELECT severity, count(*) AS n FROM alarms WHERE state <> 'closed' GROUP BY severity",
      ),
      countOpenIn: db.prepare(
        "SELECT severity, count(*) AS n FROM alarms WHERE state <> 'closed' AND district = ? GROUP BY severity",
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
  }

  get(id: string): AlarmRecord | undefined {
    const r = this.#stmts.get.get(id) as Row | undefined;
    return r && fromRow(r);
  }

  openFor(deviceId: string, ruleId: string): AlarmRecord | undefined {
    const r = this.#stmts.openFor.get(deviceId, ruleId) as Row | undefined;
    return r && fromRow(r);
  }

  save(a: AlarmRecord, e: AlarmHistoryEntry): void {
    this.#db.transaction(() => {
      this.#stmts.upsert.run({ ...a, value: a.value === null ? null : JSON.stringify(a.value) });
      this.#stmts.history.run(a.id, e.at, e.transition, e.state, e.actor, e.detail);
    })();
  }

  list(f: AlarmFilter): { total: number; alarms: AlarmRecord[] } {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.states?.length) {
      where.push(`state IN (${f.states.map(() => '?').join(', ')})`);
      args.push(...f.states);
    }
    for (const [col, v] of [
      ['severity', f.severity],
      ['family', f.family],
      ['district', f.district],
      ['device_id', f.deviceId],
    ] as const) {
      if (v === undefined) continue;
      where.push(`${col} = ?`);
      args.push(v);
    }
    if (f.shelved !== undefined) where.push(`shelved_until IS ${f.shelved ? 'NOT ' : ''}NULL`);
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    // Built from a fixed set of fragments; every value is a bound parameter.
    const total = (
      this.#db.prepare(`SELECT count(*) AS n FROM alarms ${clause}`).get(...args) as { n: number }
    ).n;
    const rows = this.#db
      .prepare(
        `SELECT * FROM alarms ${clause} ORDER BY ${SEVERITY_RANK}, raised_at DESC, id LIMIT ? OFFSET ?`,
      )
      .all(...args, f.limit, f.offset) as Row[];
    return { total, alarms: rows.map(fromRow) };
  }

  history(alarmId: string): AlarmHistoryEntry[] {
    return this.#stmts.historyOf.all(alarmId) as AlarmHistoryEntry[];
  }

  active(): Array<{ deviceId: string; ruleId: string }> {
    return this.#stmts.active.all() as Array<{ deviceId: string; ruleId: string }>;
  }

  shelved(): Array<{ id: string; shelvedUntil: number }> {
    return this.#stmts.shelved.all() as Array<{ id: string; shelvedUntil: number }>;
  }

  countActive(): Array<{ severity: Severity; family: Family; n: number }> {
    return this.#stmts.countActive.all() as Array<{ severity: Severity; family: Family; n: number }>;
  }

  countOpen(district?: string): Record<Severity, number> {
    const out = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
    const rows = district === undefined ? this.#stmts.countOpen.all() : this.#stmts.countOpenIn.all(district);
    for (const { severity, n } of rows as Array<{ severity: Severity; n: number }>) out[severity] = n;
    return out;
  }

  countTransitionsSince(at: number, transitions: readonly AlarmTransition[]): number {
    const marks = transitions.map(() => '?').join(', ');
    return (
      this.#db
        .prepare(`SELECT count(*) AS n FROM alarm_history WHERE at >= ? AND transition IN (${marks})`)
        .get(at, ...transitions) as { n: number }
    ).n;
  }

  overrides(): StoredOverride[] {
    return (
      this.#stmts.overrides.all() as Array<{
        scope: StoredOverride['scope'];
        key: string;
        rule_id: string;
        body: string;
        updated_at: number;
        updated_by: string;
      }>
    ).map((r) => ({
      scope: r.scope,
      key: r.key,
      ruleId: r.rule_id,
      body: JSON.parse(r.body),
      updatedAt: r.updated_at,
      updatedBy: r.updated_by,
    }));
  }

  putOverride(o: StoredOverride): boolean {
    return this.#db.transaction(() => {
      const existed = this.#stmts.hasOverride.get(o.scope, o.key, o.ruleId) !== undefined;
      this.#stmts.putOverride.run({ ...o, body: JSON.stringify(o.body) });
      return !existed;
    })();
  }

  deleteOverride(scope: string, key: string, ruleId: string): boolean {
    return this.#stmts.deleteOverride.run(scope, key, ruleId).changes > 0;
  }
}
