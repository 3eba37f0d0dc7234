import { type Device, newDevice } from '../../device-registry/devices.ts';
import type { ModelSpec } from '../../firmware-specs/define-device.ts';
import { loadSpecs } from '../../firmware-specs/index.ts';
import { AlarmEngine } from '../../gateway/alarms/engine.ts';
import { effectiveRules, type RuleOverride } from '../../gateway/alarms/rules.ts';
import type { AlarmSignal } from '../../gateway/alarms/types.ts';
import { FakeClock } from './fake-clock.ts';

export const specs = await loadSpecs();

/** A registry device of a model, as the engine sees it. */
export function deviceOf(model: string, overrides: Partial<Device> = {}): Device {
  const spec = specs.get(model);
  if (!spec) throw new Error(`no model ${model}`);
  const firmware = Object.keys(spec.firmware)[0].replace('x', '0');
  const input = {
    id: `${model}-1`,
    model,
    firmware,
    district: 'Ba Đình',
    ward: 'Điện Biên',
    lat: 21.03,
    lon: 105.84,
  };
  return { ...newDevice(input, spec.family, 0), online: true, ...overrides };
}

/** An engine on a fake clock with the default rules (plus overrides), recording its signals. */
export function engineHarness(
  opts: { overrides?: RuleOverride[]; desired?: (id: string) => Record<string, unknown> | null } = {},
) {
  const clock = new FakeClock(Date.UTC(2026, 10, 2, 12));
  const signals: AlarmSignal[] = [];
  const overrides = opts.overrides ?? [];
  const engine = new AlarmEngine({
    clock,
    rulesFor: (d) => effectiveRules(d, specs.get(d.model) as ModelSpec, overrides),
    onSignal: (s) => signals.push(s),
    desiredState: opts.desired,
  });
  return { clock, signals, engine, overrides };
}
