import { describe, expect, it } from 'vitest';
import type { Webhook } from '../device-registry/webhooks.ts';
import { wants } from '../gateway/events/webhook-dispatcher.ts';
import { alarmEvent } from './helpers/events.ts';

const hook = (over: Partial<Webhook> = {}): Webhook => ({
  id: 'wh_1',
  url: 'http://127.0.0.1:9/x',
  secret: 'whsec_x',
  types: ['alarm'],
  severities: null,
  description: null,
  createdAt: 0,
  createdBy: 'admin',
  dropped: 0,
  ...over,
});

describe('which events a webhook is sent', () => {
  const now = 1_800_000_000_000;
  const presence = {
    type: 'presence',
    at: now,
    deviceId: 'sl-1',
    family: 'streetlight',
    district: 'Ba Đình',
    online: false,
  } as const;

  it('by type, alarms by default', () => {
    expect(wants(hook(), alarmEvent(1), now)).toBe(true);
    expect(wants(hook(), presence, now)).toBe(false);
    expect(wants(hook({ types: ['presence'] }), presence, now)).toBe(true);
  });

  it('alarms by severity when a severity filter is set; other types pass it', () => {
    const h = hook({ types: ['alarm', 'presence'], severities: ['critical'] });
    expect(wants(h, alarmEvent(1, { severity: 'critical' }), now)).toBe(true);
    expect(wants(h, alarmEvent(2, { severity: 'minor' }), now)).toBe(false);
    expect(wants(h, presence, now)).toBe(true);
  });

  it('a shelved alarm notifies only its shelving and unshelving until the shelf ends', () => {
    const shelved = (transition: 'repeated' | 'shelved' | 'unshelved' | 'cleared', until: number) => {
      const e = alarmEvent(3);
      if (e.type !== 'alarm') throw new Error('not an alarm');
      return { ...e, transition, alarm: { ...e.alarm, shelvedUntil: new Date(until).toISOString() } };
    };
    expect(wants(hook(), shelved('repeated', now + 60_000), now)).toBe(false);
    expect(wants(hook(), shelved('cleared', now + 60_000), now)).toBe(false);
    expect(wants(hook(), shelved('shelved', now + 60_000), now)).toBe(true);
    expect(wants(hook(), shelved('unshelved', now + 60_000), now)).toBe(true);
    expect(wants(hook(), shelved('repeated', now - 1), now)).toBe(true);
  });
});
