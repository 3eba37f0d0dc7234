import { AlarmEngine, type AlarmEngineOptions } from './engine.ts';
import { defaultRules, effectiveRules, ruleOverrideSchema } from './rules.ts';

/**
 * The rule engine and the rule book as one value, the shape the alarms module takes
 * (engine-port.ts AlarmRules): buildGateway's default.
 */
export const alarmRules = {
  createEngine: (opts: AlarmEngineOptions) => new AlarmEngine(opts),
  defaultRules,
  effectiveRules,
  ruleOverrideSchema,
};
