import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { CredentialResult } from '../device-registry/devices.ts';
import { ScryptQueue } from '../device-registry/secrets.ts';
import { AuthThrottle } from '../gateway/auth-throttle.ts';
import { clip, LogGuard } from '../gateway/log-guard.ts';
import { PublishRateLimiter } from '../gateway/publish-rate-limit.ts';
import { FakeClock } from './helpers/fake-clock.ts';

/** A registry where 'real' has the secret 'right', remembered once verified; checks take no time. */
function fakeDevices() {
  const remembered = new Set<string>();
  let checks = 0;
  return {
    get checks() {
      return checks;
    },
    hasVerified: (id: string, secret: string) => remembered.has(`${id}:${secret}`),
    async verifyCredentials(id: string, secret: string): Promise<CredentialResult> {
      if (remembered.has(`${id}:${secret}`)) return 'ok';
      checks++;
      if (id !== 'real') return 'unknown';
      if (secret !== 'right') return 'bad';
      remembered.add(`${id}:${secret}`);
      return 'ok';
    },
  };
}

function throttle(clock: FakeClock, devices = fakeDevices()) {
  const t = new AuthThrottle({
    devices,
    clock,
    windowMs: 60_000,
    failuresBeforeBackoff: 3,
    failuresBeforeBan: 6,
    banMs: 300_000,
    pendingPerAddress: 8,
  });
  return { t, devices };
}

describe('AuthThrottle', () => {
  it('backs an address off after its failures, bans it, and lets the ban run out', async () => {
    const clock = new FakeClock(0);
    const { t, devices } = throttle(clock);
    for (let i = 0; i < 3; i++)
      expect(await t.verify('10.0.0.9', 'real', 'guess')).toEqual({ result: 'bad' });
    expect(await t.verify('10.0.0.9', 'real', 'guess')).toEqual({ throttled: 'backoff' });
    clock.advance(2000); // past the back-off: one more real check
    expect(await t.verify('10.0.0.9', 'real', 'guess')).toEqual({ result: 'bad' });
    expect(await t.verify('10.0.0.9', 'real', 'guess')).toEqual({ throttled: 'banned' });
    expect(t.dropOnAccept('10.0.0.9')).toBe(true);
    expect(devices.checks).toBe(4);
    // Another address is not affected, and the real device's id is not banned.
    expect(await t.verify('10.0.0.7', 'real', 'right')).toEqual({ result: 'ok' });
    clock.advance(300_001);
    expect(t.dropOnAccept('10.0.0.9')).toBe(false);
    expect(await t.verify('10.0.0.9', 'real', 'guess')).toEqual({ result: 'bad' });
  });

  it('lets a remembered secret in from a banned address, which is then refused at CONNECT only', async () => {
    const clock = new FakeClock(0);
    const { t } = throttle(clock);
    expect(await t.verify('10.0.0.1', 'real', 'right')).toEqual({ result: 'ok' });
    for (let i = 0; i < 10; i++) await t.verify('10.0.0.5', 'real', 'guess');
    expect(await t.verify('10.0.0.5', 'other', 'guess')).toEqual({ throttled: 'banned' });
    expect(await t.verify('10.0.0.5', 'real', 'right')).toEqual({ result: 'ok' });
    expect(t.dropOnAccept('10.0.0.5')).toBe(false); // a device logs in from there: NAT
  });

  it('gives an id under attack one check at a time for failing addresses, and any for clean ones', async () => {
    const clock = new FakeClock(0);
    let release!: () => void;
    const slow = fakeDevices();
    const devices = {
      ...slow,
      hasVerified: slow.hasVerified,
      verifyCredentials: async (id: string, secret: string) => {
        if (secret === 'hold') await new Promise<void>((r) => (release = r));
        return slow.verifyCredentials(id, secret);
      },
    };
    const { t } = throttle(clock, devices as ReturnType<typeof fakeDevices>);
    for (const a of ['10.0.1.1', '10.0.1.2', '10.0.1.3']) await t.verify(a, 'real', 'guess');
    const held = t.verify('10.0.1.1', 'real', 'hold');
    expect(await t.verify('10.0.1.2', 'real', 'guess')).toEqual({ throttled: 'id_busy' });
    expect(await t.verify('10.0.9.9', 'real', 'right')).toEqual({ result: 'ok' });
    release();
    expect(await held).toEqual({ result: 'bad' });
  });
});

/** Jobs that start (recording their name) and finish only when released, oldest first. */
function gatedJobs() {
  const order: string[] = [];
  const gates: Array<() => void> = [];
  const job = (name: string) => () =>
    new Promise<void>((r) => {
      order.push(name);
      gates.push(r);
    });
  const releaseAll = async () => {
    while (gates.length) {
      gates.shift()!();
      await new Promise((r) => setImmediate(r));
    }
  };
  return { order, job, releaseAll };
}

describe('ScryptQueue', () => {
  it('runs suspect checks one at a time behind the others, and refuses past its limit', async () => {
    const q = new ScryptQueue({ concurrency: 2, limit: 2 });
    const { order, job, releaseAll } = gatedJobs();
    const runs = [
      q.run(job('s1'), { suspect: true }),
      q.run(job('s2'), { suspect: true }),
      q.run(job('c1')),
      q.run(job('c2')),
    ];
    await expect(q.run(job('over'))).rejects.toMatchObject({ code: 'REG_ERR_AUTH_BUSY' });
    await Promise.resolve();
    expect(order).toEqual(['s1', 'c1']);
    await releaseAll();
    await Promise.all(runs);
    expect(order).toEqual(['s1', 'c1', 'c2', 's2']);
  });

  it('lets a burst use every free thread, but serves an ordinary check first', async () => {
    const q = new ScryptQueue({ concurrency: 2, limit: 10 });
    const { order, job, releaseAll } = gatedJobs();
    const runs = [q.run(job('b1'), { burst: true }), q.run(job('b2'), { burst: true })];
    runs.push(q.run(job('b3'), { burst: true }), q.run(job('c1')));
    await Promise.resolve();
    // A burst alone takes both threads (a suspect lane would have taken one).
    expect(order).toEqual(['b1', 'b2']);
    await releaseAll();
    await Promise.all(runs);
    // The ordinary check that came after b3 runs before it.
    expect(order).toEqual(['b1', 'b2', 'c1', 'b3']);
  });
});

describe('LogGuard', () => {
  it('writes a burst, then counts, then says how many it suppressed', () => {
    const clock = new FakeClock(0);
    const lines: Array<Record<string, unknown>> = [];
    const log = pino({ level: 'info' }, { write: (l: string) => lines.push(JSON.parse(l)) });
    const guard = new LogGuard(log, clock, { perSecond: 2, burst: 5 });
    for (let i = 0; i < 100; i++)
      guard.write('info', 'refused', { deviceId: clip('x'.repeat(5000)) }, 'refused');
    expect(lines).toHaveLength(5);
    expect(lines[0]!.deviceId).toBe(`${'x'.repeat(64)}…(5000 bytes)`);
    clock.advance(500);
    expect(lines).toHaveLength(6);
    expect(lines[5]).toMatchObject({ kind: 'refused', suppressed: 95, msg: 'suppressed 95 similar lines' });
  });
});

describe('PublishRateLimiter', () => {
  it('lets a burst through, then one publish per token, in order', () => {
    const clock = new FakeClock(0);
    let limited = 0;
    const limiter = new PublishRateLimiter({ clock, perSecond: 10, burst: 3, onLimited: () => limited++ });
    const passed: number[] = [];
    const publish = (i: number) => {
      const packet = { i };
      const go = () => {
        if (!limiter.hold('dev', packet, go)) passed.push(i);
      };
      go();
    };
    for (let i = 0; i < 6; i++) publish(i);
    expect(passed).toEqual([0, 1, 2]);
    expect(limited).toBe(3);
    clock.advance(100);
    expect(passed).toEqual([0, 1, 2, 3]);
    clock.advance(200);
    expect(passed).toEqual([0, 1, 2, 3, 4, 5]);
    expect(limiter.hold('other', {}, () => {})).toBe(false);
  });
});
