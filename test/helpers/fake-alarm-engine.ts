import { z } from 'zod';
import type { Device } from '../../device-registry/devices.ts';
import type { Family } from '../../firmware-specs/families.ts';
import type {
  AlarmEnginePort,
  AlarmRules,
  EngineOptions,
  RuleInfo,
  RuleOverride,
} from '../../gateway/alarms/engine-port.ts';
import { SEVERITIES } from '../../gateway/alarms/types.ts';

/**
 * A small stand-in for the rule engine (the seam of issue 9) so the alarm service is tested on its
 * own: a field above a threshold raises and at or below clears; a device offline for
 * `offlineAfterMs` raises "offline", coming back clears it. No delays, no deadband.
 */
export interface FakeRule extends RuleInfo {
  field?: string;
  threshold?: number;
}

export interface FakeAlarmRules extends AlarmRules<FakeRule> {
  engine: FakeEngine | undefined;
}

export interface FakeEngine extends AlarmEnginePort {
  restored: Array<{ deviceId: string; ruleId: string }>;
  invalidations: Array<string | undefined>;
  chattering: number;
}

export function fakeAlarmRules(opts: { offlineAfterMs?: number } = {}): FakeAlarmRules {
  const offlineAfterMs = opts.offlineAfterMs ?? 180_000;
  const defaults = (family: Family): FakeRule[] => [
    ...(family === 'streetlight'
      ? [
          {
            id: 'lamp_fault',
            family,
            severity: 'major' as const,
            description: 'fault code set',
            field: 'fault_code',
            threshold: 0,
          },
        ]
      : []),
    { id: 'offline', family, severity: 'minor' as const, description: 'device offline' },
  ];
  const rules: FakeAlarmRules = {
    engine: undefined,
    defaultRules: defaults,
    effectiveRules(device: Device, _spec, overrides: readonly RuleOverride[]) {
      let out = defaults(device.family);
      for (const o of overrides as ReadonlyArray<RuleOverride & { threshold?: number }>) {
        out = out
          .filter((r) => !(r.id === o.ruleId && o.enabled === false))
          .map((r) =>
            r.id === o.ruleId
              ? { ...r, severity: o.severity ?? r.severity, threshold: o.threshold ?? r.threshold }
              : r,
          );
      }
      return out;
    },
    ruleOverrideSchema: z.strictObject({
      scope: z.enum(['model', 'district', 'device']),
      key: z.string(),
      ruleId: z.string(),
      enabled: z.boolean().optional(),
      severity: z.enum(SEVERITIES).optional(),
      threshold: z.number().optional(),
    }),
    overrideProblems: (o) =>
      ((o as { threshold?: number }).threshold ?? 0) < 0
        ? [{ path: 'threshold', message: 'a fault code is never negative' }]
        : [],
    createEngine(o: EngineOptions<FakeRule>) {
      rules.engine = fakeEngine(o, offlineAfterMs);
      return rules.engine;
    },
  };
  return rules;
}

function fakeEngine(o: EngineOptions<FakeRule>, offlineAfterMs: number): FakeEngine {
  const active = new Set<string>();
  const cache = new Map<string, readonly FakeRule[]>();
  const offlineTimers = new Map<string, unknown>();
  const rulesOf = (d: Device) => {
    let r = cache.get(d.id);
    if (!r) {
      r = o.rulesFor(d);
      cache.set(d.id, r);
    }
    return r;
  };
  const signal = (kind: 'raise' | 'clear', d: Device, rule: FakeRule, value: number | null, at: number) => {
    const key = `${d.id}\n${rule.id}`;
    if ((kind === 'raise') === active.has(key)) return;
    if (kind === 'raise') active.add(key);
    else active.delete(key);
    o.onSignal({
      kind,
      deviceId: d.id,
      ruleId: rule.id,
      severity: rule.severity,
      value,
      message: `${rule.description}${value === null ? '' : `: ${value}`}`,
      at,
    });
  };
  const engine: FakeEngine = {
    restored: [],
    invalidations: [],
    chattering: 0,
    reading(d, fields, ts) {
      for (const rule of rulesOf(d)) {
        if (!rule.field || typeof fields[rule.field] !== 'number') continue;
        const v = fields[rule.field] as number;
        signal(v > (rule.threshold ?? 0) ? 'raise' : 'clear', d, rule, v, ts);
      }
    },
    presence(d, online, at) {
      const rule = rulesOf(d).find((r) => r.id === 'offline');
      o.clock.clearTimeout(offlineTimers.get(d.id));
      offlineTimers.delete(d.id);
      if (!rule) return;
      if (online) return signal('clear', d, rule, null, at);
      offlineTimers.set(
        d.id,
        o.clock.setTimeout(() => signal('raise', d, rule, null, o.clock.now()), offlineAfterMs),
      );
    },
    restore(list) {
      engine.restored = [...list];
      for (const a of list) active.add(`${a.deviceId}\n${a.ruleId}`);
    },
    invalidate(deviceId) {
      engine.invalidations.push(deviceId);
      if (deviceId) cache.delete(deviceId);
      else cache.clear();
    },
    stats: () => ({ chattering: engine.chattering }),
    stop() {
      for (const t of offlineTimers.values()) o.clock.clearTimeout(t);
    },
  };
  return engine;
}
