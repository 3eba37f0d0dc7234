import type { Device, DeviceStore } from '../../device-registry/devices.ts';
import { type CommandSpec, findCommand, needsConfirm } from '../../firmware-specs/define-device.ts';
import {
  CommandParamsError,
  CommandRateLimitedError,
  ConfirmRequiredError,
  ModelNotLoadedError,
  UnknownCommandError,
} from './errors.ts';

/** A name a client chose, cut short before it goes into a message. */
export const clip = (s: string) => (s.length > 64 ? `${s.slice(0, 64)}…` : s);

/**
 * The device's command of this name with its params parsed by the spec's schema; a coded 4xx
 * error otherwise. Names are looked up as own entries only (issue 8, row 14).
 */
export function resolveCommand(
  devices: DeviceStore,
  device: Device,
  name: string,
  rawParams: unknown,
): { cmdSpec: CommandSpec; params: Record<string, unknown> } {
  // undefined once the device's model file is gone (issue 8, row 17): refused, not a TypeError.
  const spec = devices.spec(device);
  if (!spec) throw new ModelNotLoadedError(device.id, device.model);
  const cmdSpec = findCommand(spec, name);
  if (!cmdSpec) throw new UnknownCommandError(spec.id, clip(name), Object.keys(spec.commands).join(', '));
  const parsed = cmdSpec.params.safeParse(rawParams ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CommandParamsError(
      `params${issue.path.map((p) => `.${String(p)}`).join('')}: ${issue.message}`,
    );
  }
  return { cmdSpec, params: parsed.data as Record<string, unknown> };
}

/** The spec's guards (docs/design.md, "Commands"): an explicit confirm, a minimum interval. */
export function checkGuards(
  cmdSpec: CommandSpec,
  req: { name: string; params: Record<string, unknown>; confirm?: boolean },
  lastRequestedAt: () => number | null,
  now: number,
): void {
  const guards = cmdSpec.guards;
  if (needsConfirm(cmdSpec, req.params) && req.confirm !== true)
    throw new ConfirmRequiredError(req.name, cmdSpec.description ?? 'a guarded action');
  if (guards?.minIntervalSeconds) {
    const last = lastRequestedAt();
    const waitMs = last === null ? 0 : last + guards.minIntervalSeconds * 1000 - now;
    if (waitMs > 0)
      throw new CommandRateLimitedError(req.name, guards.minIntervalSeconds, Math.ceil(waitMs / 1000));
  }
}
