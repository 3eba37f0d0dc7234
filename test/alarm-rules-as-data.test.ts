import { describe, expect, it } from 'vitest';
import type { Condition } from '../firmware-specs/alarm-rules/define-rules.ts';
import { COUNTER_CHECK_FIELD } from '../firmware-specs/alarm-rules/define-rules.ts';
import { canonicalFieldsOf, cumulativeFields, FAMILIES } from '../firmware-specs/families.ts';
import { compileRule, renderMessage } from '../gateway/alarms/condition.ts';
import {
  defaultRules,
  effectiveRules,
  overrideProblems,
  type RuleOverride,
  ruleOverrideSchema,
} from '../gateway/alarms/rules.ts';
import { deviceOf, specs } from './helpers/alarms.ts';

const leaves = (c: Condition): Array<Extract<Condition, { field: string }>> =>
  'all' in c ? c.all.flatMap(leaves) : 'any' in c ? c.any.flatMap(leaves) : [c];

describe('the default rule sets', () => {
  for (const family of FAMILIES) {
    it(`${family}: canonical fields, known params, unique ids, a source, an offline rule`, () => {
      const rules = defaultRules(family);
      const fields = new Set([...canonicalFieldsOf(family), COUNTER_CHECK_FIELD]);
      expect(new Set(rules.map((r) => r.id)).size).toBe(rules.length);
      expect(rules.some((r) => r.offline)).toBe(true);
      for (const rule of rules) {
        expect(rule.family).toBe(family);
        expect(rule.source.length, rule.id).toBeGreaterThan(10);
        expect(Boolean(rule.condition) !== Boolean(rule.offline), `${rule.id}: a condition or offline`).toBe(
          true,
        );
        for (const leaf of rule.condition ? leaves(rule.condition) : []) {
          expect(fields.has(leaf.field), `${rule.id}: ${leaf.field}`).toBe(true);
          if (leaf.param) expect(rule.params, `${rule.id}: ${leaf.param}`).toHaveProperty(leaf.param);
          if (leaf.meanOver) expect(rule.params[leaf.meanOver], `${rule.id}: window`).toBeGreaterThan(0);
        }
        for (const [, name] of rule.message.matchAll(/\{(\w+)\}/g))
          expect(['value', 'unit', ...Object.keys(rule.params)], `${rule.id}: {${name}}`).toContain(name);
        expect(() => compileRule(rule)).not.toThrow();
      }
      if (cumulativeFields[family].length) expect(rules.map((r) => r.id)).toContain('counter_backwards');
    });
  }

  it('messages carry units from the canonical field names', () => {
    const rule = defaultRules('air_quality').find((r) => r.id === 'aqi_bad')!;
    expect(renderMessage(rule, 'pm25_ugm3', 91.234)).toBe(
      'PM2.5 60-minute mean 91.23 µg/m³ above 80 µg/m³: VN_AQI above 150 (bad)',
    );
  });
});

describe('overrides', () => {
  const device = deviceOf('aquanet-ws200', { id: 'ws-7', district: 'Cầu Giấy' });
  const spec = specs.get('aquanet-ws200')!;
  const pressureLow = (overrides: RuleOverride[]) =>
    effectiveRules(device, spec, overrides).find((r) => r.id === 'pressure_low');

  it('the most specific wins, property by property: device over district over model', () => {
    const rule = pressureLow([
      { scope: 'device', key: 'ws-7', ruleId: 'pressure_low', params: { min: 0.8 } },
      {
        scope: 'model',
        key: 'aquanet-ws200',
        ruleId: 'pressure_low',
        params: { min: 1.5 },
        severity: 'critical',
      },
      {
        scope: 'district',
        key: 'Cầu Giấy',
        ruleId: 'pressure_low',
        params: { min: 1.2 },
        onDelaySeconds: 30,
      },
      { scope: 'device', key: 'ws-8', ruleId: 'pressure_low', params: { min: 9 } },
      { scope: 'district', key: 'Đống Đa', ruleId: 'pressure_low', enabled: false },
    ]);
    expect(rule).toMatchObject({ params: { min: 0.8 }, severity: 'critical', onDelaySeconds: 30 });
    expect(pressureLow([])).toMatchObject({ params: { min: 1 }, severity: 'major', onDelaySeconds: 120 });
  });

  it('a district disables a rule and a device enables it again', () => {
    const off = { scope: 'district', key: 'Cầu Giấy', ruleId: 'pressure_low', enabled: false } as const;
    expect(pressureLow([off])).toBeUndefined();
    expect(
      pressureLow([off, { scope: 'device', key: 'ws-7', ruleId: 'pressure_low', enabled: true }]),
    ).toBeDefined();
  });

  it('the offline delay is the intervals param times the model report interval', () => {
    const offline = (o: RuleOverride[]) => effectiveRules(device, spec, o).find((r) => r.id === 'offline')!;
    expect(offline([]).onDelaySeconds).toBe(180);
    expect(
      offline([{ scope: 'model', key: 'aquanet-ws200', ruleId: 'offline', params: { intervals: 10 } }])
        .onDelaySeconds,
    ).toBe(600);
  });

  it('the API body is checked: a bad field is named, an unknown rule or param is refused', () => {
    const bad = ruleOverrideSchema.safeParse({ scope: 'ward', key: 'x', ruleId: 'pressure_low' });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0].path).toEqual(['scope']);
    expect(
      ruleOverrideSchema.safeParse({ scope: 'model', key: 'x', ruleId: 'offline', onDelaySeconds: -1 })
        .success,
    ).toBe(false);
    expect(overrideProblems({ scope: 'model', key: 'x', ruleId: 'nope' })).toEqual([
      { path: 'ruleId', message: 'no rule nope' },
    ]);
    expect(
      overrideProblems({ scope: 'model', key: 'x', ruleId: 'pressure_low', params: { mni: 1 } }),
    ).toEqual([{ path: 'params.mni', message: 'rule pressure_low has no param mni' }]);
    expect(
      overrideProblems({ scope: 'model', key: 'x', ruleId: 'offline', params: { intervals: 5 } }),
    ).toEqual([]);
  });
});
