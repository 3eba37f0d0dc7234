import { describe, expect, it } from 'vitest';
import { LampDispatcher } from '../gateway/lighting/lamp-dispatcher.ts';
import { createLogger } from '../gateway/logger.ts';
import { FakeClock } from './helpers/fake-clock.ts';

describe('lighting commands at a bounded rate', () => {
  it('100,000 lamps at 1,000/s: 50 every 50 ms, over 100 s; a newer level replaces a queued one (in its place)', () => {
    const clock = new FakeClock(0);
    const sent: Array<{ id: string; level: number; at: number }> = [];
    const d = new LampDispatcher({
      clock,
      log: createLogger('silent'),
      ratePerSecond: 1000,
      submit: (id, c) => sent.push({ id, level: c.level, at: clock.now() }),
    });
    d.enqueue(new Map(Array.from({ length: 100_000 }, (_, i) => [`sl-${i}`, 100])), 'test');
    expect(sent.length).toBe(50); // the first share at once
    clock.advance(1000);
    expect(sent.length).toBe(50 * 21);
    // A newer step for lamps still waiting: they get only the newer level, at the end of the queue.
    d.enqueue(new Map([['sl-99999', 60]]), 'test');
    clock.advance(200_000);
    expect(sent.length).toBe(100_000);
    expect(sent.filter((s) => s.id === 'sl-99999')).toEqual([{ id: 'sl-99999', level: 60, at: 99_950 }]);
    const perSecond = new Map<number, number>();
    for (const s of sent)
      perSecond.set(Math.floor(s.at / 1000), (perSecond.get(Math.floor(s.at / 1000)) ?? 0) + 1);
    expect(Math.max(...perSecond.values())).toBe(1000);
    expect(sent.at(-1)!.at).toBe(99_950);
  });

  it('a refused command is counted and the roll-out goes on', () => {
    const clock = new FakeClock(0);
    const d = new LampDispatcher({
      clock,
      log: createLogger('silent'),
      ratePerSecond: 100,
      submit: (id) => {
        if (id === 'b') throw new Error('device disabled');
      },
    });
    d.enqueue(
      new Map([
        ['a', 1],
        ['b', 1],
        ['c', 1],
      ]),
      'test',
    );
    clock.advance(200);
    expect({ submitted: d.submitted, refused: d.refused, pending: d.pending }).toEqual({
      submitted: 2,
      refused: 1,
      pending: 0,
    });
  });
});
