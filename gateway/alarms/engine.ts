import type { Device } from '../../device-registry/devices.ts';
import type { AlarmRule } from '../../firmware-specs/alarm-rules/define-rules.ts';
import type { Clock } from '../clock.ts';
import { type AlarmMeasureStats, AlarmMeasures, type RaiseHistory } from './alarm-measures.ts';
import {
  type CompiledRule,
  compileRule,
  type EvalEnv,
  FALSE,
  MovingMean,
  renderMessage,
  TRUE,
} from './condition.ts';
import { defaultRules } from './rules.ts';
import type { AlarmSignal } from './types.ts';

export interface AlarmEngineOptions {
  clock: Clock;
  /** The device's effective rules (rules.ts effectiveRules with the stored overrides). */
  rulesFor(device: Device): readonly AlarmRule[];
  /** Raise and clear transitions; the alarm service persists them (only they touch a database). */
  onSignal(signal: AlarmSignal): void;
  /** Desired state from the command service; asked only when a rule's reading part already holds. */
  desiredState?(deviceId: string): Record<string, unknown> | null;
  /** Operators on shift, for the flood threshold (EEMUA 191: 10 alarms per operator per 10 min). */
  operators?: number;
}

interface RuleState extends RaiseHistory {
  compiled: CompiledRule;
  active: boolean;
  /** When the condition began to hold (on-delay), NaN when it does not. */
  pendingSince: number;
  /** When the clear condition began to hold (off-delay), NaN when it does not. */
  clearingSince: number;
  means: MovingMean[];
  /** Presence rules: the pending offline timer. */
  timer: unknown;
}

interface DeviceState {
  device: Device;
  /** The device's reading rules, compiled once and shared by devices with the same rules. */
  rules: CompiledRule[];
  /**
   * The state of each reading rule, created the first time its condition holds (or for a moving
   * mean): a device whose readings are normal touches nothing of its own but this array.
   */
  states: Array<RuleState | undefined>;
  presence: RuleState[];
  lastTs: number;
}

/**
 * The alarm rule engine (issue 9): evaluates each device's rules in memory at ingest and emits a
 * raise when a condition has held for the on-delay, a clear when the deadband-relaxed condition
 * has been false for the off-delay. A value wandering around a threshold inside the deadband
 * therefore raises once (ISA-18.2). Presence rules raise when a device stays offline for the
 * rule's delay, on the injected clock.
 */
export class AlarmEngine {
  readonly #opts: AlarmEngineOptions;
  readonly #devices = new Map<string, DeviceState>();
  readonly #restored = new Map<string, Set<string>>();
  readonly #measures: AlarmMeasures;
  readonly #env: EvalEnv & { deviceId: string; desiredCache: Record<string, unknown> | null | undefined };

  constructor(opts: AlarmEngineOptions) {
    this.#opts = opts;
    this.#measures = new AlarmMeasures({ operators: opts.operators });
    const env = {
      fields: {} as Record<string, unknown>,
      means: [] as MovingMean[],
      deviceId: '',
      desiredCache: undefined as Record<string, unknown> | null | undefined,
      desired() {
        if (env.desiredCache === undefined) env.desiredCache = opts.desiredState?.(env.deviceId) ?? null;
        return env.desiredCache;
      },
    };
    this.#env = env;
  }

  /** The hot path: one accepted reading of a device, with its (device or receive) time. */
  reading(device: Device, fields: Record<string, unknown>, ts: number): void {
    const st = this.#state(device);
    // Alarms are about now: a reading older than one already judged (a device emptying its
    // buffer) is stored but does not move them.
    if (ts < st.lastTs) return;
    st.lastTs = ts;
    const env = this.#env;
    env.fields = fields;
    env.deviceId = device.id;
    env.desiredCache = undefined;
    const { rules, states } = st;
    for (let i = 0; i < rules.length; i++) {
      const c = rules[i];
      let r = states[i];
      if (c.means.length) {
        r ??= states[i] = newState(c, false);
        for (let m = 0; m < c.means.length; m++) r.means[m].add(ts, fields[c.means[m].field]);
        env.means = r.means;
      }
      if (r === undefined || !r.active) {
        const h = c.holds(env, false);
        if (h === TRUE) {
          r ??= states[i] = newState(c, false);
          if (Number.isNaN(r.pendingSince)) r.pendingSince = ts;
          if (ts - r.pendingSince >= c.rule.onDelaySeconds * 1000) this.#raise(device.id, r, ts);
        } else if (h === FALSE && r !== undefined) r.pendingSince = Number.NaN;
      } else {
        const h = c.holds(env, true);
        if (h === FALSE) {
          if (Number.isNaN(r.clearingSince)) r.clearingSince = ts;
          if (ts - r.clearingSince >= c.rule.offDelaySeconds * 1000) this.#clear(device.id, r, ts);
        } else if (h === TRUE) r.clearingSince = Number.NaN;
      }
    }
  }

  /** A device became reachable or not (`at`: when; may be in the past after a restart). */
  presence(device: Device, online: boolean, at: number): void {
    const st = this.#state(device);
    const { clock } = this.#opts;
    for (const r of st.presence) {
      if (online) {
        if (r.timer !== undefined) clock.clearTimeout(r.timer);
        r.timer = undefined;
        if (r.active) this.#clear(device.id, r, at);
        continue;
      }
      if (r.active || r.timer !== undefined) continue;
      const delayMs = Math.max(0, at + r.compiled.rule.onDelaySeconds * 1000 - clock.now());
      r.timer = clock.setTimeout(() => {
        r.timer = undefined;
        this.#raise(device.id, r, clock.now());
      }, delayMs);
    }
  }

  /** Alarms open before a restart: their rules start active, so they neither raise again nor get lost. */
  restore(active: ReadonlyArray<{ deviceId: string; ruleId: string }>): void {
    for (const { deviceId, ruleId } of active) {
      const st = this.#devices.get(deviceId);
      const i = st ? st.rules.findIndex((c) => c.rule.id === ruleId) : -1;
      const presence = st?.presence.find((r) => r.compiled.rule.id === ruleId);
      if (st && i >= 0) {
        st.states[i] ??= newState(st.rules[i], true);
        st.states[i].active = true;
      } else if (presence) presence.active = true;
      else {
        const set = this.#restored.get(deviceId) ?? new Set<string>();
        set.add(ruleId);
        this.#restored.set(deviceId, set);
      }
    }
  }

  /** Rules changed (an override): the device's (or every device's) rules are resolved again now. */
  invalidate(deviceId?: string): void {
    const targets = deviceId === undefined ? [...this.#devices.values()] : [this.#devices.get(deviceId)];
    for (const st of targets) if (st) this.#load(st.device, st);
  }

  /** A device was deleted: its timers stop and its state goes. */
  forget(deviceId: string): void {
    const st = this.#devices.get(deviceId);
    for (const r of st?.presence ?? []) if (r.timer !== undefined) this.#opts.clock.clearTimeout(r.timer);
    this.#devices.delete(deviceId);
  }

  stats(): AlarmMeasureStats & { devices: number } {
    return { ...this.#measures.stats(this.#opts.clock.now()), devices: this.#devices.size };
  }

  stop(): void {
    for (const st of this.#devices.values())
      for (const r of st.presence) if (r.timer !== undefined) this.#opts.clock.clearTimeout(r.timer);
    this.#devices.clear();
  }

  #state(device: Device): DeviceState {
    const st = this.#devices.get(device.id);
    if (!st) return this.#load(device, undefined);
    st.device = device;
    return st;
  }

  /** Resolves the device's rules, keeping the state of rules that remain; a dropped active rule clears. */
  #load(device: Device, previous: DeviceState | undefined): DeviceState {
    const old = new Map<string, RuleState>();
    for (const r of previous?.states ?? []) if (r) old.set(r.compiled.rule.id, r);
    for (const r of previous?.presence ?? []) old.set(r.compiled.rule.id, r);
    const restored = this.#restored.get(device.id);
    this.#restored.delete(device.id);
    const st: DeviceState = {
      device,
      rules: [],
      states: [],
      presence: [],
      lastTs: previous?.lastTs ?? Number.NEGATIVE_INFINITY,
    };
    for (const rule of this.#opts.rulesFor(device)) {
      const compiled = compileRule(rule);
      const kept = old.get(rule.id);
      old.delete(rule.id);
      // Kept in place: a pending offline timer holds this very object.
      if (kept) kept.compiled = compiled;
      const active = restored?.has(rule.id) ?? false;
      if (rule.offline) st.presence.push(kept ?? newState(compiled, active));
      else {
        st.rules.push(compiled);
        st.states.push(kept ?? (active || compiled.means.length ? newState(compiled, active) : undefined));
      }
    }
    // An alarm restored open whose rule no longer applies to the device (disabled meanwhile).
    for (const ruleId of restored ?? []) {
      if ([...st.rules, ...st.presence.map((r) => r.compiled)].some((c) => c.rule.id === ruleId)) continue;
      const severity = defaultRules(device.family).find((r) => r.id === ruleId)?.severity ?? 'minor';
      const message = 'rule disabled or removed';
      this.#opts.onSignal({
        kind: 'clear',
        deviceId: device.id,
        ruleId,
        severity,
        value: null,
        message,
        at: this.#opts.clock.now(),
      });
    }
    for (const gone of old.values()) {
      if (gone.timer !== undefined) this.#opts.clock.clearTimeout(gone.timer);
      if (gone.active) this.#clear(device.id, gone, this.#opts.clock.now(), 'rule disabled or removed');
    }
    this.#devices.set(device.id, st);
    return st;
  }

  #value(r: RuleState): number | boolean | string | null {
    const field = r.compiled.valueField;
    if (field === null) return null;
    const i = r.compiled.means.findIndex((m) => m.field === field);
    const v = i >= 0 ? r.means[i].mean() : this.#env.fields[field];
    return typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string' ? v : null;
  }

  #raise(deviceId: string, r: RuleState, at: number): void {
    r.active = true;
    r.pendingSince = Number.NaN;
    r.clearingSince = Number.NaN;
    this.#measures.raised(r, at);
    const rule = r.compiled.rule;
    const value = rule.offline ? null : this.#value(r);
    this.#opts.onSignal({
      kind: 'raise',
      deviceId,
      ruleId: rule.id,
      severity: rule.severity,
      value,
      message: renderMessage(rule, r.compiled.valueField, value),
      at,
    });
  }

  #clear(deviceId: string, r: RuleState, at: number, why?: string): void {
    r.active = false;
    r.pendingSince = Number.NaN;
    r.clearingSince = Number.NaN;
    const rule = r.compiled.rule;
    const value = rule.offline || why ? null : this.#value(r);
    const field = r.compiled.valueField;
    const now =
      why ??
      (rule.offline
        ? 'back online'
        : value === null
          ? 'back to normal'
          : `back to normal: ${field} ${renderMessage({ ...rule, message: '{value} {unit}' }, field, value)}`);
    this.#opts.onSignal({
      kind: 'clear',
      deviceId,
      ruleId: rule.id,
      severity: rule.severity,
      value,
      message: now.trim(),
      at,
    });
  }
}

function newState(compiled: CompiledRule, active: boolean): RuleState {
  return {
    compiled,
    active,
    pendingSince: Number.NaN,
    clearingSince: Number.NaN,
    means: compiled.means.map((m) => new MovingMean(m.windowMs)),
    timer: undefined,
    raises: [],
    chattering: false,
  };
}
