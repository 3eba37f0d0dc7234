import type { Family } from '../firmware-specs/families.ts';
import type { AlarmState, Severity } from '../gateway/alarms/types.ts';
import type { AlarmFilter, AlarmRecord, StoredOverride } from './alarms.ts';

/*
 * The alarm tables' rows and the SQL fragments both alarm stores (SQLite, PostgreSQL) build their
 * statements from, so the two read and write the same columns the same way.
 */

/** Where a step's `prev` is still the stored row: the columns every transition moves. */
export const UNCHANGED_SQL = (p: (name: string) => string, nullSafeEq: string) =>
  `state = ${p('pState')} AND updated_at = ${p('pUpdatedAt')} AND occurrences = ${p('pOccurrences')}
   AND shelved_until ${nullSafeEq} ${p('pShelvedUntil')} AND acknowledged_at ${nullSafeEq} ${p('pAcknowledgedAt')}`;

export const prevParams = (prev: AlarmRecord) => ({
  pState: prev.state,
  pUpdatedAt: prev.updatedAt,
  pOccurrences: prev.occurrences,
  pShelvedUntil: prev.shelvedUntil,
  pAcknowledgedAt: prev.acknowledgedAt,
});

/** The alarm's columns as bound parameters (value as JSON). */
export const alarmParams = (a: AlarmRecord) => ({
  ...a,
  value: a.value === null ? null : JSON.stringify(a.value),
});

export const ALARM_COLUMNS = `id, device_id, rule_id, family, district, ward, severity, state, message, value,
  occurrences, raised_at, updated_at, acknowledged_at, acknowledged_by, cleared_at, shelved_until,
  shelved_by, shelve_reason`;
export const ALARM_PARAM_NAMES = [
  'id',
  'deviceId',
  'ruleId',
  'family',
  'district',
  'ward',
  'severity',
  'state',
  'message',
  'value',
  'occurrences',
  'raisedAt',
  'updatedAt',
  'acknowledgedAt',
  'acknowledgedBy',
  'clearedAt',
  'shelvedUntil',
  'shelvedBy',
  'shelveReason',
] as const;
/** What a transition may change; the rest is fixed when the alarm is raised. */
export const ALARM_UPDATES: ReadonlyArray<readonly [string, (typeof ALARM_PARAM_NAMES)[number]]> = [
  ['severity', 'severity'],
  ['state', 'state'],
  ['message', 'message'],
  ['value', 'value'],
  ['occurrences', 'occurrences'],
  ['updated_at', 'updatedAt'],
  ['acknowledged_at', 'acknowledgedAt'],
  ['acknowledged_by', 'acknowledgedBy'],
  ['cleared_at', 'clearedAt'],
  ['shelved_until', 'shelvedUntil'],
  ['shelved_by', 'shelvedBy'],
  ['shelve_reason', 'shelveReason'],
];

/** The WHERE clause of a list; `p` writes the n-th placeholder (`?` or `$n`). */
export function alarmWhere(f: AlarmFilter, p: (n: number) => string): { clause: string; args: unknown[] } {
  const where: string[] = [];
  const args: unknown[] = [];
  const bind = (v: unknown) => {
    args.push(v);
    return p(args.length);
  };
  if (f.states?.length) where.push(`state IN (${f.states.map(bind).join(', ')})`);
  for (const [col, v] of [
    ['severity', f.severity],
    ['family', f.family],
    ['district', f.district],
    ['device_id', f.deviceId],
  ] as const) {
    if (v !== undefined) where.push(`${col} = ${bind(v)}`);
  }
  if (f.shelved !== undefined) where.push(`shelved_until IS ${f.shelved ? 'NOT ' : ''}NULL`);
  return { clause: where.length ? `WHERE ${where.join(' AND ')}` : '', args };
}

export interface AlarmRow {
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

export const fromRow = (r: AlarmRow): AlarmRecord => ({
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
/** History entries an alarm read returns at most: the newest. */
export const MAX_ALARM_HISTORY = 200;

export const SEVERITY_RANK = `CASE severity WHEN 'critical' THEN 0 WHEN 'major' THEN 1 WHEN 'minor' THEN 2 ELSE 3 END`;

export interface OverrideRow {
  scope: StoredOverride['scope'];
  key: string;
  rule_id: string;
  body: string;
  updated_at: number;
  updated_by: string;
}

export const overrideFromRow = (r: OverrideRow): StoredOverride => ({
  scope: r.scope,
  key: r.key,
  ruleId: r.rule_id,
  body: JSON.parse(r.body),
  updatedAt: r.updated_at,
  updatedBy: r.updated_by,
});
