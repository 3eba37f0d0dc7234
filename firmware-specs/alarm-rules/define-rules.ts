import type { Severity } from '../../gateway/alarms/types.ts';
import type { Family } from '../families.ts';

/**
 * Alarm rules as data (issue 9): a condition on canonical fields or on presence, a severity, an
 * on-delay, a clear with deadband (hysteresis) and off-delay, and a message template. Rules are
 * plain JSON-able objects, so an override from the API can change a parameter without code.
 */

export const COMPARATORS = ['<', '<=', '>', '>=', '==', '!='] as const;
export type Comparator = (typeof COMPARATORS)[number];

/** Where a compared value comes from: the reading, or the desired state the commands keep. */
export const SOURCES = { reading: 'reading', desired: 'desired' } as const;
export type Source = keyof typeof SOURCES;

export interface Comparison {
  field: string;
  op: Comparator;
  /** A literal threshold, or the name of one of the rule's params (overridable). */
  value?: number | boolean | string;
  param?: string;
  /** Default `reading`. */
  source?: Source;
  /**
   * Compare the moving mean instead of the last value (numbers only), over the number of minutes
   * held in this param of the rule (a param, so an override can change the window).
   */
  meanOver?: string;
  /**
   * What a reading without the field counts as. Unset: unknown, and the rule's state does not
   * move (a firmware that leaves out its quality block neither raises nor clears).
   */
  absentIs?: number | boolean | string;
}

export type Condition = Comparison | { all: readonly Condition[] } | { any: readonly Condition[] };

export interface AlarmRule {
  id: string;
  family: Family;
  severity: Severity;
  description: string;
  /** A condition on readings; a presence rule has `offline` instead. */
  condition?: Condition;
  /** Presence: raised when the device stays offline for `params.intervals` report intervals. */
  offline?: true;
  /** The field whose value a signal carries and `{value}` shows; default the first compared one. */
  valueField?: string;
  /** Named thresholds the condition and the message refer to; overrides change these. */
  params: Record<string, number>;
  /**
   * Hysteresis, in the units of the compared fields: once raised, numeric thresholds move this
   * far toward normal before the rule clears (ISA-18.2 deadband). 0 for booleans and codes.
   */
  deadband: number;
  /** The condition must hold this long before the alarm is raised. */
  onDelaySeconds: number;
  /** The clear condition must hold this long before the alarm clears. */
  offDelaySeconds: number;
  /**
   * `{value}`, `{unit}` and `{param}` placeholders: "pressure {value} {unit} below {min} {unit}".
   * The unit comes from the canonical field name (_bar, _v, _ugm3...).
   */
  message: string;
  /** Where the thresholds come from (a regulation, a standard, a datasheet, a practice). */
  source: string;
}

/** A family's rule list, checked by the rule-set tests (canonical fields, params, ids). */
export const defineRules = <F extends Family>(family: F, rules: ReadonlyArray<Omit<AlarmRule, 'family'>>) =>
  rules.map((r) => ({ ...r, family })) as readonly AlarmRule[];

/** The reading's tag that counter sanity adds (gateway/alarms/counter-sanity.ts). */
export const COUNTER_CHECK_FIELD = 'counter_check';
