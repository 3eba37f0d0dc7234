import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from './helpers/fake-clock.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { stopDrained } from './helpers/stop-drained.ts';

const LAMPS = 40;

describe('bulk roll-out rate', () => {
  let gw: TestGateway | undefined;
  let clock: FakeClock;
  afterEach(async () => stopDrained(gw, clock));

  async function rollOutAt(ratePerSecond: number) {
    clock = new FakeClock(Date.parse('2026-11-29T22:00:00Z'));
    gw = await startTestGateway({ clock });
    const ids: string[] = [];
    for (let i = 0; i < LAMPS; i++)
      ids.push((await gw.register({ id: `sl-rate-${i}`, model: 'lumina-slc300', firmware: '2.1' })).id);
    const res = await gw.api('POST', '/api/commands/bulk', {
      selector: { ids },
      name: 'setDimming',
      params: { level: 30 },
      ratePerSecond,
    });
    expect(res.status).toBe(202);
    const submitted = async () =>
      (await gw!.api('GET', `/api/commands/bulk/${res.body.id}?devices=false`)).body.submitted as number;
    return { submitted };
  }

  it('holds a rate of 1 command a second (below one per 50 ms tick)', async () => {
    const { submitted } = await rollOutAt(1);
    expect(await submitted()).toBe(1);
    clock.advance(999);
    expect(await submitted()).toBe(1);
    clock.advance(1);
    expect(await submitted()).toBe(2);
    clock.advance(5_000);
    expect(await submitted()).toBe(7);
  });

  it('holds a rate of 30 a second, between one and two a tick', async () => {
    const { submitted } = await rollOutAt(30);
    clock.advance(1_000);
    expect(await submitted()).toBeGreaterThanOrEqual(30);
    expect(await submitted()).toBeLessThanOrEqual(31);
  });
});
