import type { AlarmStore, StoredOverride } from '../../device-registry/alarms.ts';
import type { Device, DeviceStore } from '../../device-registry/devices.ts';
import type { ModelSpec } from '../../firmware-specs/define-device.ts';
import { FAMILIES, type Family } from '../../firmware-specs/families.ts';
import type { AlarmRules, RuleInfo, RuleOverride } from './engine-port.ts';
import { OverrideInvalidError, OverrideNotFoundError } from './errors.ts';

export const OVERRIDE_SCOPES = ['model', 'district', 'device'] as const;
export type OverrideScope = (typeof OVERRIDE_SCOPES)[number];

/**
 * Rule overrides per model, district or device: kept in the registry, held in memory for the
 * engine's rule lookups, and validated against the engine's override schema before they are stored.
 */
export class RuleOverrides<R extends RuleInfo> {
  readonly #store: AlarmStore;
  readonly #rules: AlarmRules<R>;
  readonly #specs: ReadonlyMap<string, ModelSpec>;
  readonly #devices: DeviceStore;
  /** Rules changed: for one device, or for all when no id is given. */
  readonly #onChange: (deviceId?: string) => void;
  #all: StoredOverride[] = [];

  constructor(deps: {
    store: AlarmStore;
    rules: AlarmRules<R>;
    specs: ReadonlyMap<string, ModelSpec>;
    devices: DeviceStore;
    onChange(deviceId?: string): void;
  }) {
    this.#store = deps.store;
    this.#rules = deps.rules;
    this.#specs = deps.specs;
    this.#devices = deps.devices;
    this.#onChange = deps.onChange;
  }

  /**
   * Reads the stored overrides (at start, and in a cluster periodically: another node may have
   * changed them); the engine is told when they differ from those held.
   */
  async load(): Promise<void> {
    const all = await this.#store.overrides();
    if (JSON.stringify(all) === JSON.stringify(this.#all)) return;
    this.#all = all;
    this.#onChange();
  }

  all(): readonly StoredOverride[] {
    return this.#all;
  }

  /** The stored overrides that apply to a device, broadest scope first. */
  applying(device: Device): StoredOverride[] {
    const keyOf: Record<OverrideScope, string> = {
      model: device.model,
      district: device.district,
      device: device.id,
    };
    return OVERRIDE_SCOPES.flatMap((scope) =>
      this.#all.filter((o) => o.scope === scope && o.key === keyOf[scope]),
    );
  }

  /** No rules for a device whose model is not loaded: its readings are quarantined anyway. */
  rulesFor(device: Device): R[] {
    const spec = this.#devices.spec(device);
    if (!spec) return [];
    const overrides = this.applying(device).map((o) => o.body as unknown as RuleOverride);
    return this.#rules.effectiveRules(device, spec, overrides);
  }

  defaultRules(family?: Family): R[] {
    return (family ? [family] : FAMILIES).flatMap((f) => [...this.#rules.defaultRules(f as Family)]);
  }

  async put(
    scope: OverrideScope,
    key: string,
    ruleId: string,
    body: Record<string, unknown>,
    actor: string,
    at: number,
  ): Promise<{ override: StoredOverride; created: boolean }> {
    const known = this.#rulesInScope(scope, key);
    if (!known.some((r) => r.id === ruleId))
      throw new OverrideInvalidError(
        `params.ruleId: no rule "${ruleId}" applies to ${scope} ${key} (rules: ${[...new Set(known.map((r) => r.id))].join(', ')})`,
      );
    const parsed = this.#rules.ruleOverrideSchema.safeParse({ ...body, scope, key, ruleId });
    if (!parsed.success)
      throw new OverrideInvalidError(
        parsed.error.issues
          .map((i) => `${['body', ...i.path.map(String)].join('.')}: ${i.message}`)
          .join('; '),
      );
    const problems = this.#rules.overrideProblems?.(parsed.data) ?? [];
    if (problems.length)
      throw new OverrideInvalidError(problems.map((p) => `body.${p.path}: ${p.message}`).join('; '));
    const { scope: _s, key: _k, ruleId: _r, ...rest } = parsed.data as RuleOverride & Record<string, unknown>;
    const override: StoredOverride = {
      scope,
      key,
      ruleId,
      body: { scope, key, ruleId, ...rest },
      updatedAt: at,
      updatedBy: actor,
    };
    const created = await this.#store.putOverride(override);
    await this.#reload(scope, key);
    return { override, created };
  }

  async delete(scope: OverrideScope, key: string, ruleId: string): Promise<void> {
    if (!(await this.#store.deleteOverride(scope, key, ruleId)))
      throw new OverrideNotFoundError(ruleId, scope, key);
    await this.#reload(scope, key);
  }

  async #reload(scope: OverrideScope, key: string): Promise<void> {
    this.#all = await this.#store.overrides();
    this.#onChange(scope === 'device' ? key : undefined);
  }

  #rulesInScope(scope: OverrideScope, key: string): R[] {
    if (scope === 'model') {
      const spec = this.#specs.get(key);
      if (!spec) throw new OverrideInvalidError(`params.key: no model "${key}"`);
      return this.defaultRules(spec.family);
    }
    if (scope === 'device') {
      const device = this.#devices.get(key);
      if (!device) throw new OverrideInvalidError(`params.key: no device "${key}"`);
      return this.defaultRules(device.family);
    }
    return this.defaultRules();
  }
}
