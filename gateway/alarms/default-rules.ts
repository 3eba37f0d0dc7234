import { z } from 'zod';
import type { AlarmEnginePort, AlarmRules } from './engine-port.ts';
import { SEVERITIES } from './types.ts';

/*
 * The rules and engine buildGateway uses unless told otherwise. Until the rule engine of issue 9
 * (gateway/alarms/engine.ts, rules.ts) is merged this is an inert stand-in: no rules, no signals.
 * At that merge it becomes:
 *   { createEngine: (o) => new AlarmEngine(o), defaultRules, effectiveRules, ruleOverrideSchema }
 */
const inertEngine: AlarmEnginePort = {
  reading() {},
  presence() {},
  restore() {},
  invalidate() {},
  stats: () => ({ chattering: 0 }),
  stop() {},
};

export const defaultAlarmRules: AlarmRules = {
  createEngine: () => inertEngine,
  defaultRules: () => [],
  effectiveRules: () => [],
  ruleOverrideSchema: z.object({
    scope: z.enum(['model', 'district', 'device']),
    key: z.string(),
    ruleId: z.string(),
    enabled: z.boolean().optional(),
    severity: z.enum(SEVERITIES).optional(),
  }),
};
