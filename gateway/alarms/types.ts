import type { Family } from '../../firmware-specs/families.ts';

/** Alarm severities, most urgent first (ThingsBoard's set minus "indeterminate"). */
export const SEVERITIES = ['critical', 'major', 'minor', 'warning'] as const;
export type Severity = (typeof SEVERITIES)[number];

/**
 * The alarm lifecycle (ISA-18.2 states, ThingsBoard's names): an alarm opens
 * active_unacknowledged; an operator acknowledges it (active_acknowledged); when its condition
 * clears it becomes cleared_unacknowledged (if nobody acknowledged it) or closed; acknowledging a
 * cleared_unacknowledged alarm closes it. Shelving is orthogonal: a shelved alarm keeps its state
 * but is hidden from the active list and raises no notification until `shelvedUntil`.
 */
export const ALARM_STATES = {
  active_unacknowledged: 'active_unacknowledged',
  active_acknowledged: 'active_acknowledged',
  cleared_unacknowledged: 'cleared_unacknowledged',
  closed: 'closed',
} as const;
export type AlarmState = keyof typeof ALARM_STATES;

/** What the rule engine tells the alarm service: a condition began to hold, or stopped. */
export interface AlarmSignal {
  kind: 'raise' | 'clear';
  deviceId: string;
  ruleId: string;
  severity: Severity;
  /** The field's value (or null for presence rules) that caused the signal. */
  value: number | boolean | string | null;
  /** Rendered from the rule's template, with units: "pressure 0.8 bar below 1.5 bar". */
  message: string;
  at: number;
}

/** An alarm; `T` is how its times are written (epoch ms in the store, ISO 8601 in the API). */
export interface Alarm<T> {
  id: string;
  deviceId: string;
  family: Family;
  district: string;
  ward: string;
  ruleId: string;
  severity: Severity;
  state: AlarmState;
  message: string;
  value: number | boolean | string | null;
  occurrences: number;
  raisedAt: T;
  updatedAt: T;
  acknowledgedAt: T | null;
  acknowledgedBy: string | null;
  clearedAt: T | null;
  shelvedUntil: T | null;
  shelvedBy: string | null;
  shelveReason: string | null;
}

/** An alarm as the API, the events stream and webhooks show it. */
export type AlarmView = Alarm<string>;

export type AlarmTransition =
  | 'raised'
  | 'repeated'
  | 'acknowledged'
  | 'cleared'
  | 'closed'
  | 'shelved'
  | 'unshelved';
