import type { Family } from '../../firmware-specs/families.ts';
import type { Severity } from '../../gateway/alarms/types.ts';
import type { GatewayEvent } from '../../gateway/events/bus.ts';

/** An alarm transition as the alarm service publishes it (its helper is not merged here yet). */
export function alarmEvent(
  n: number,
  opts: { district?: string; severity?: Severity; family?: Family; at?: number } = {},
): GatewayEvent {
  const at = opts.at ?? 1_800_000_000_000 + n;
  const iso = new Date(at).toISOString();
  return {
    type: 'alarm',
    at,
    transition: 'raised',
    actor: 'rules',
    alarm: {
      id: `alm-${n}`,
      deviceId: `sl-${n}`,
      family: opts.family ?? 'streetlight',
      district: opts.district ?? 'Hoàn Kiếm',
      ward: 'Hàng Bạc',
      ruleId: 'streetlight.fault_code',
      severity: opts.severity ?? 'major',
      state: 'active_unacknowledged',
      message: `fault code ${n}`,
      value: n,
      occurrences: 1,
      raisedAt: iso,
      updatedAt: iso,
      acknowledgedAt: null,
      acknowledgedBy: null,
      clearedAt: null,
      shelvedUntil: null,
      shelvedBy: null,
      shelveReason: null,
    },
  };
}
