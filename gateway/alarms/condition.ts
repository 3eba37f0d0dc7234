import type { AlarmRule, Comparison, Condition } from '../../firmware-specs/alarm-rules/define-rules.ts';
import { fieldUnit } from '../../firmware-specs/families.ts';

/**
 * Rule conditions compiled to closures once per rule and device, so a reading costs a few
 * property reads and comparisons. Three-valued: a reading without the compared field neither
 * raises nor clears (UNKNOWN).
 */
export const FALSE = 0;
export const TRUE = 1;
export const UNKNOWN = 2;
export type Tri = typeof FALSE | typeof TRUE | typeof UNKNOWN;

export interface EvalEnv {
  fields: Record<string, unknown>;
  /** Moving means of the rule's mean comparisons, in declaration order. */
  means: MovingMean[];
  /** The desired state of the device; looked up at most once per evaluation. */
  desired(): Record<string, unknown> | null;
}

/** `relaxed`: thresholds moved by the deadband toward normal (the test while the alarm is active). */
export type Evaluator = (env: EvalEnv, relaxed: boolean) => Tri;

export interface CompiledRule {
  rule: AlarmRule;
  holds: Evaluator;
  /** Window lengths (ms) and fields of the rule's moving means. */
  means: Array<{ field: string; windowMs: number }>;
  valueField: string | null;
}

type Test = (v: unknown) => boolean;

/** A comparison against a fixed threshold, specialised once so the hot path does no dispatch. */
function tester(op: Comparison['op'], t: unknown): Test {
  switch (op) {
    case '==':
      return (v) => v === t;
    case '!=':
      return (v) => v !== t;
    case '<':
      return (v) => (v as number) < (t as number);
    case '<=':
      return (v) => (v as number) <= (t as number);
    case '>':
      return (v) => (v as number) > (t as number);
    case '>=':
      return (v) => (v as number) >= (t as number);
  }
}

function compileLeaf(c: Comparison, rule: AlarmRule, means: CompiledRule['means']): Evaluator {
  const t = c.param !== undefined ? rule.params[c.param] : c.value;
  if (t === undefined) throw new Error(`rule ${rule.id}: ${c.field} compares with nothing`);
  // The deadband moves an ordering threshold toward normal: `< 1` clears above 1 + deadband.
  const ordering = typeof t === 'number' && c.op !== '==' && c.op !== '!=';
  const shift = ordering ? (c.op[0] === '<' ? rule.deadband : -rule.deadband) : 0;
  const strict = tester(c.op, t);
  const relaxedTest = shift === 0 ? strict : tester(c.op, (t as number) + shift);
  const { field, absentIs } = c;
  if (c.meanOver !== undefined) {
    const minutes = rule.params[c.meanOver];
    if (!(minutes > 0)) throw new Error(`rule ${rule.id}: no window ${c.meanOver}`);
    const idx = means.push({ field, windowMs: minutes * 60_000 }) - 1;
    return (env, relaxed) => {
      const m = env.means[idx].mean();
      if (m === undefined) return UNKNOWN;
      return (relaxed ? relaxedTest : strict)(m) ? TRUE : FALSE;
    };
  }
  if (c.source === 'desired') {
    // A state nobody asked for compares as undefined: `!= false` holds, `== true` does not.
    return (env, relaxed) => ((relaxed ? relaxedTest : strict)(env.desired()?.[field]) ? TRUE : FALSE);
  }
  return (env, relaxed) => {
    let v = env.fields[field];
    if (v === undefined) {
      if (absentIs === undefined) return UNKNOWN;
      v = absentIs;
    }
    return (relaxed ? relaxedTest : strict)(v) ? TRUE : FALSE;
  };
}

function compileCondition(c: Condition, rule: AlarmRule, means: CompiledRule['means']): Evaluator {
  if ('all' in c) {
    const parts = c.all.map((p) => compileCondition(p, rule, means));
    // Short-circuits on FALSE, so a desired-state lookup placed last runs only when needed.
    return (env, relaxed) => {
      let out: Tri = TRUE;
      for (const p of parts) {
        const r = p(env, relaxed);
        if (r === FALSE) return FALSE;
        if (r === UNKNOWN) out = UNKNOWN;
      }
      return out;
    };
  }
  if ('any' in c) {
    const parts = c.any.map((p) => compileCondition(p, rule, means));
    return (env, relaxed) => {
      let out: Tri = FALSE;
      for (const p of parts) {
        const r = p(env, relaxed);
        if (r === TRUE) return TRUE;
        if (r === UNKNOWN) out = UNKNOWN;
      }
      return out;
    };
  }
  return compileLeaf(c, rule, means);
}

function firstField(c: Condition): string | null {
  if ('all' in c) return c.all.map(firstField).find((f) => f !== null) ?? null;
  if ('any' in c) return c.any.map(firstField).find((f) => f !== null) ?? null;
  return c.source === 'desired' ? null : c.field;
}

// Devices without overrides share their family's rule objects, and so their compiled closures.
const compiled = new WeakMap<AlarmRule, CompiledRule>();

export function compileRule(rule: AlarmRule): CompiledRule {
  let c = compiled.get(rule);
  if (!c) {
    c = compileRuleNow(rule);
    compiled.set(rule, c);
  }
  return c;
}

function compileRuleNow(rule: AlarmRule): CompiledRule {
  const means: CompiledRule['means'] = [];
  const holds: Evaluator = rule.condition ? compileCondition(rule.condition, rule, means) : () => UNKNOWN;
  const valueField = rule.valueField ?? (rule.condition ? firstField(rule.condition) : null);
  return { rule, holds, means, valueField };
}

/**
 * A moving mean over a window in 12 time buckets: constant memory and work per reading. Defined
 * once the readings span 75 % of the window (the data-capture rule of air quality reporting).
 */
export class MovingMean {
  static readonly BUCKETS = 12;
  readonly #bucketMs: number;
  readonly #windowMs: number;
  readonly #sums = new Float64Array(MovingMean.BUCKETS);
  readonly #counts = new Uint32Array(MovingMean.BUCKETS);
  readonly #ids = new Float64Array(MovingMean.BUCKETS).fill(-1);
  #first = Number.NaN;
  #lastTs = Number.NaN;

  constructor(windowMs: number) {
    this.#windowMs = windowMs;
    this.#bucketMs = windowMs / MovingMean.BUCKETS;
  }

  add(ts: number, v: unknown): void {
    if (typeof v !== 'number') return;
    const id = Math.floor(ts / this.#bucketMs);
    const slot = id % MovingMean.BUCKETS;
    if (this.#ids[slot] !== id) {
      this.#ids[slot] = id;
      this.#sums[slot] = 0;
      this.#counts[slot] = 0;
    }
    this.#sums[slot] += v;
    this.#counts[slot]++;
    if (Number.isNaN(this.#first)) this.#first = ts;
    this.#lastTs = ts;
  }

  mean(): number | undefined {
    const now = this.#lastTs;
    if (!(now - this.#first >= this.#windowMs * 0.75)) return undefined;
    const current = Math.floor(now / this.#bucketMs);
    let sum = 0;
    let n = 0;
    for (let i = 0; i < MovingMean.BUCKETS; i++) {
      if (this.#ids[i] > current - MovingMean.BUCKETS) {
        sum += this.#sums[i];
        n += this.#counts[i];
      }
    }
    return n ? sum / n : undefined;
  }
}

const fmt = (v: unknown) =>
  typeof v === 'number' ? String(Number.isInteger(v) ? v : Number(v.toFixed(2))) : String(v);

/** "pressure {value} {unit} below {min} {unit}" with the value, the unit and the rule's params. */
export function renderMessage(rule: AlarmRule, valueField: string | null, value: unknown): string {
  const unit = fieldUnit(valueField);
  return rule.message
    .replace(/\{(\w+)\}/g, (whole, name: string) => {
      if (name === 'value') return fmt(value);
      if (name === 'unit') return unit;
      return name in rule.params ? fmt(rule.params[name]) : whole;
    })
    .replace(/ {2,}/g, ' ');
}
