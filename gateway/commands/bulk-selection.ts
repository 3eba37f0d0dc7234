import type { BulkRecord } from '../../device-registry/commands.ts';
import type { DeviceFilter, DeviceStore } from '../../device-registry/devices.ts';
import { findCommand, needsConfirm } from '../../firmware-specs/define-device.ts';

export type BulkSelector = Pick<DeviceFilter, 'family' | 'district' | 'ward' | 'tag' | 'ids' | 'model'>;

export interface BulkSelection {
  /** Enabled devices the selector matches. */
  matched: number;
  /** Devices the selector matches that are disabled: never given the command. */
  disabled: number;
  /** Devices that can take the command, in id order. */
  deviceIds: string[];
  skipped: BulkRecord['skipped'];
  /** Models of the devices that can take it, with their counts. */
  byModel: Record<string, number>;
  /** Some device's model asks `confirm: true` for these params. */
  needsConfirm: boolean;
}

/**
 * Which devices a group command would reach, and why the others would not: the one selection
 * that both the roll-out and its preview (`POST /api/commands/bulk/preview`) make. Without a
 * command name every enabled device matched is counted as able to take it.
 */
export function selectForBulk(
  devices: DeviceStore,
  selector: BulkSelector,
  command?: { name: string; params?: unknown },
): BulkSelection {
  const out: BulkSelection = {
    matched: 0,
    disabled: 0,
    deviceIds: [],
    skipped: [],
    byModel: {},
    needsConfirm: false,
  };
  for (const d of devices.list(selector)) {
    if (!d.enabled) {
      out.disabled++;
      continue;
    }
    out.matched++;
    const spec = devices.spec(d);
    if (!spec) {
      out.skipped.push({ deviceId: d.id, reason: `model ${d.model} is not loaded` });
      continue;
    }
    if (command) {
      const cmd = findCommand(spec, command.name);
      if (!cmd) {
        out.skipped.push({ deviceId: d.id, reason: `model ${d.model} has no command ${command.name}` });
        continue;
      }
      const parsed = cmd.params.safeParse(command.params ?? {});
      if (!parsed.success) {
        out.skipped.push({ deviceId: d.id, reason: `params do not fit model ${d.model}` });
        continue;
      }
      if (needsConfirm(cmd, parsed.data as Record<string, unknown>)) out.needsConfirm = true;
    }
    out.deviceIds.push(d.id);
    out.byModel[d.model] = (out.byModel[d.model] ?? 0) + 1;
  }
  return out;
}

/** Skip reasons with how many devices each, most first, for a preview. */
export function countReasons(skipped: BulkRecord['skipped']): Array<{ reason: string; devices: number }> {
  const counts = new Map<string, number>();
  for (const s of skipped) counts.set(s.reason, (counts.get(s.reason) ?? 0) + 1);
  return [...counts]
    .map(([reason, devices]) => ({ reason, devices }))
    .sort((a, b) => b.devices - a.devices || (a.reason < b.reason ? -1 : 1));
}
