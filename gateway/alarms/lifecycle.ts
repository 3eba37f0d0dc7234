import type { AlarmRecord } from '../../device-registry/alarms.ts';
import type { Device } from '../../device-registry/devices.ts';
import { AlarmClosedError, NotAcknowledgeableError, NotShelvedError } from './errors.ts';
import type { AlarmSignal, AlarmTransition } from './types.ts';

/*
 * The alarm lifecycle as pure steps (ISA-18.2 states with ThingsBoard's names, gateway/alarms/
 * types.ts). Each step returns the alarm after it and the transition to record and publish:
 *
 *   raise  -> active_unacknowledged                       ("raised"; "repeated" when one is open)
 *   active_unacknowledged --ack--> active_acknowledged    ("acknowledged")
 *   active_unacknowledged --clear--> cleared_unacknowledged ("cleared")
 *   active_acknowledged --clear--> closed                 ("closed")
 *   cleared_unacknowledged --ack--> closed                ("closed")
 *   cleared_unacknowledged --raise--> active_unacknowledged ("repeated": it returned before anyone
 *                                                         acknowledged it, one alarm, one more occurrence)
 * Shelving is orthogonal to the state ("shelved", "unshelved"); closing ends it.
 */

export interface Step {
  alarm: AlarmRecord;
  transition: AlarmTransition;
  detail: string | null;
}

const unshelved = { shelvedUntil: null, shelvedBy: null, shelveReason: null };

export function raise(open: AlarmRecord | undefined, s: AlarmSignal, device: Device, newId: string): Step {
  if (!open)
    return {
      alarm: {
        id: newId,
        deviceId: device.id,
        family: device.family,
        district: device.district,
        ward: device.ward,
        ruleId: s.ruleId,
        severity: s.severity,
        state: 'active_unacknowledged',
        message: s.message,
        value: s.value,
        occurrences: 1,
        raisedAt: s.at,
        updatedAt: s.at,
        acknowledgedAt: null,
        acknowledgedBy: null,
        clearedAt: null,
        ...unshelved,
      },
      transition: 'raised',
      detail: s.message,
    };
  const returned = open.state === 'cleared_unacknowledged';
  return {
    alarm: {
      ...open,
      severity: s.severity,
      message: s.message,
      value: s.value,
      occurrences: open.occurrences + 1,
      updatedAt: s.at,
      state: returned ? 'active_unacknowledged' : open.state,
      clearedAt: returned ? null : open.clearedAt,
    },
    transition: 'repeated',
    detail: s.message,
  };
}

/** Null when there is nothing to clear (no open alarm, or it cleared already). */
export function clear(open: AlarmRecord | undefined, s: AlarmSignal): Step | null {
  if (!open || open.state === 'cleared_unacknowledged' || open.state === 'closed') return null;
  const acknowledged = open.state === 'active_acknowledged';
  return {
    alarm: {
      ...open,
      value: s.value,
      updatedAt: s.at,
      clearedAt: s.at,
      ...(acknowledged
        ? { state: 'closed' as const, ...unshelved }
        : { state: 'cleared_unacknowledged' as const }),
    },
    transition: acknowledged ? 'closed' : 'cleared',
    detail: s.message,
  };
}

export function acknowledge(a: AlarmRecord, actor: string, at: number): Step {
  const base = { ...a, updatedAt: at, acknowledgedAt: at, acknowledgedBy: actor };
  if (a.state === 'active_unacknowledged')
    return { alarm: { ...base, state: 'active_acknowledged' }, transition: 'acknowledged', detail: null };
  if (a.state === 'cleared_unacknowledged')
    return {
      alarm: { ...base, state: 'closed', ...unshelved },
      transition: 'closed',
      detail: 'acknowledged after it cleared',
    };
  throw new NotAcknowledgeableError(a.id, a.state);
}

export function shelve(a: AlarmRecord, actor: string, at: number, until: number, reason: string): Step {
  if (a.state === 'closed') throw new AlarmClosedError(a.id, 'shelved');
  return {
    alarm: { ...a, updatedAt: at, shelvedUntil: until, shelvedBy: actor, shelveReason: reason },
    transition: 'shelved',
    detail: `until ${new Date(until).toISOString()}: ${reason}`,
  };
}

export function unshelve(a: AlarmRecord, at: number, why: string | null): Step {
  if (a.shelvedUntil === null) throw new NotShelvedError(a.id);
  return { alarm: { ...a, updatedAt: at, ...unshelved }, transition: 'unshelved', detail: why };
}
