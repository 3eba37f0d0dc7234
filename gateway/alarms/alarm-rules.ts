import type { AlarmRule } from '../../firmware-specs/alarm-rules/define-rules.ts';
import { AlarmEngine } from './engine.ts';
import type { AlarmRules } from './engine-port.ts';
import { defaultRules, effectiveRules, overrideProblems, ruleOverrideSchema } from './rules.ts';

/**
 * The rule engine and the rule book as one value, the shape the alarms module takes
 * (engine-port.ts AlarmRules): buildGateway's default.
 */
export const alarmRules: AlarmRules<AlarmRule> = {
  createEngine: (opts) => new AlarmEngine(opts),
  defaultRules,
  effectiveRules,
  ruleOverrideSchema,
  overrideProblems,
};
