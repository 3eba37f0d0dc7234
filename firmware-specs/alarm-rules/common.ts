import type { AlarmRule } from './define-rules.ts';
import { COUNTER_CHECK_FIELD } from './define-rules.ts';

type Rule = Omit<AlarmRule, 'family'>;

/**
 * Every family: offline longer than `intervals` report intervals. Three missed reports is the
 * usual heartbeat convention (MQTT's own keep-alive allows 1.5 periods before it gives up on a
 * client, [MQTT-3.1.2-24]; a reading period is longer and devices on NB-IoT or LoRaWAN miss one
 * now and then), so one late report does not page anybody.
 */
export const offline = (severity: AlarmRule['severity'] = 'major'): Rule => ({
  id: 'offline',
  severity,
  description: 'Device offline longer than a few report intervals',
  offline: true,
  params: { intervals: 3 },
  deadband: 0,
  onDelaySeconds: 0, // set from the model's report interval by effectiveRules()
  offDelaySeconds: 0,
  message: 'offline for more than {intervals} report intervals',
  source: 'three missed reports: heartbeat practice; MQTT 3.1.1 keep-alive [MQTT-3.1.2-24]',
});

/**
 * Cumulative counters (families.ts cumulativeFields) checked by counter sanity: a counter that
 * runs backwards (a swapped or reset meter, a tampered register) is a major alarm; the tagged
 * reading is still stored. It clears after 15 minutes of sane readings, so the operator sees it.
 */
export const counterBackwards = (what: string): Rule => ({
  id: 'counter_backwards',
  severity: 'major',
  description: `${what} counter went backwards (device swapped, reset or tampered)`,
  condition: { field: COUNTER_CHECK_FIELD, op: '==', value: 'backwards', absentIs: 'ok' },
  params: {},
  deadband: 0,
  onDelaySeconds: 0,
  offDelaySeconds: 900,
  message: `${what} counter went backwards`,
  source: 'counter sanity (gateway/alarms/counter-sanity.ts): a cumulative register never decreases',
});

/** A counter that grew faster than the device can physically count (its rating, 1 h per hour). */
export const counterJump = (what: string): Rule => ({
  id: 'counter_jump',
  severity: 'minor',
  description: `${what} counter grew faster than the device's rating allows`,
  condition: { field: COUNTER_CHECK_FIELD, op: '==', value: 'jump', absentIs: 'ok' },
  params: {},
  deadband: 0,
  onDelaySeconds: 0,
  offDelaySeconds: 900,
  message: `${what} counter jumped more than the rating allows over the elapsed time`,
  source: 'counter sanity: increase <= rated rate x elapsed time',
});
