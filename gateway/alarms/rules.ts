import { z } from 'zod';
import type { Device } from '../../device-registry/devices.ts';
import type { AlarmRule } from '../../firmware-specs/alarm-rules/define-rules.ts';
import { defaultRuleSets } from '../../firmware-specs/alarm-rules/index.ts';
import type { ModelSpec } from '../../firmware-specs/define-device.ts';
import type { Family } from '../../firmware-specs/families.ts';
import { SEVERITIES } from './types.ts';

export type {
  AlarmRule,
  Comparator,
  Comparison,
  Condition,
} from '../../firmware-specs/alarm-rules/define-rules.ts';

/**
 * Overrides change a default rule for a model (the spec id, `vinasmart-em310`), a district or one
 * device. The most specific wins, property by property: device over district over model over the
 * default. They change thresholds and delays, never the condition's shape.
 */
export const OVERRIDE_SCOPES = ['model', 'district', 'device'] as const;
export type OverrideScope = (typeof OVERRIDE_SCOPES)[number];

const seconds = z
  .number()
  .int()
  .min(0)
  .max(7 * 24 * 3600);

export const ruleOverrideSchema = z
  .object({
    scope: z.enum(OVERRIDE_SCOPES),
    key: z.string().min(1).max(200),
    ruleId: z.string().min(1).max(100),
    enabled: z.boolean().optional(),
    severity: z.enum(SEVERITIES).optional(),
    /** Replaces named thresholds of the rule (`{ "min": 1.2 }`); unknown names are refused. */
    params: z.record(z.string(), z.number().finite()).optional(),
    deadband: z.number().finite().min(0).optional(),
    onDelaySeconds: seconds.optional(),
    offDelaySeconds: seconds.optional(),
  })
  .strict();
export type RuleOverride = z.infer<typeof ruleOverrideSchema>;

export function defaultRules(family: Family): readonly AlarmRule[] {
  return defaultRuleSets[family];
}

/** Every default rule id of any family (the API's list of overridable rules). */
export function ruleIds(): Set<string> {
  return new Set(Object.values(defaultRuleSets).flatMap((rules) => rules.map((r) => r.id)));
}

/**
 * What is wrong with an override against the default rules (empty when it fits): the service
 * answers a 400 naming the field. A rule id may exist in several families (`offline`), so a
 * param is known when any rule of that id declares it.
 */
export function overrideProblems(o: RuleOverride): Array<{ path: string; message: string }> {
  const rules = Object.values(defaultRuleSets).flatMap((set) => set.filter((r) => r.id === o.ruleId));
  if (rules.length === 0) return [{ path: 'ruleId', message: `no rule ${o.ruleId}` }];
  const problems: Array<{ path: string; message: string }> = [];
  for (const name of Object.keys(o.params ?? {})) {
    if (!rules.some((r) => name in r.params))
      problems.push({ path: `params.${name}`, message: `rule ${o.ruleId} has no param ${name}` });
  }
  return problems;
}

const SPECIFICITY: Record<OverrideScope, number> = { model: 0, district: 1, device: 2 };

function applies(o: RuleOverride, device: Device): boolean {
  switch (o.scope) {
    case 'model':
      return o.key === device.model;
    case 'district':
      return o.key === device.district;
    case 'device':
      return o.key === device.id;
  }
}

/** The device's report period: its spec's, else its Modbus poll, else 5 minutes. */
export function reportIntervalSeconds(spec: ModelSpec): number {
  return spec.reportIntervalSeconds ?? (spec.modbus ? spec.modbus.pollIntervalMs / 1000 : 300);
}

/** The rules that apply to a device: its family's defaults with the overrides that match it. */
export function effectiveRules(
  device: Device,
  spec: ModelSpec,
  overrides: readonly RuleOverride[],
): AlarmRule[] {
  const mine = overrides
    .filter((o) => applies(o, device))
    .sort((a, b) => SPECIFICITY[a.scope] - SPECIFICITY[b.scope]);
  const out: AlarmRule[] = [];
  for (const base of defaultRules(device.family)) {
    let rule: AlarmRule = base;
    let enabled = true;
    for (const o of mine) {
      if (o.ruleId !== base.id) continue;
      if (o.enabled !== undefined) enabled = o.enabled;
      rule = {
        ...rule,
        ...(o.severity && { severity: o.severity }),
        ...(o.deadband !== undefined && { deadband: o.deadband }),
        ...(o.onDelaySeconds !== undefined && { onDelaySeconds: o.onDelaySeconds }),
        ...(o.offDelaySeconds !== undefined && { offDelaySeconds: o.offDelaySeconds }),
        params: { ...rule.params, ...pick(o.params, rule.params) },
      };
    }
    if (!enabled) continue;
    if (rule.offline)
      rule = { ...rule, onDelaySeconds: (rule.params.intervals ?? 3) * reportIntervalSeconds(spec) };
    out.push(rule);
  }
  return out;
}

/** Only the params the rule knows: an override cannot invent a threshold nobody reads. */
function pick(from: Record<string, number> | undefined, known: Record<string, number>) {
  if (!from) return {};
  return Object.fromEntries(Object.entries(from).filter(([k]) => k in known));
}
