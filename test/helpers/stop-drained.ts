import { expect } from 'vitest';
import type { FakeClock } from './fake-clock.ts';
import type { TestGateway } from './gateway.ts';

/**
 * Stops a gateway that runs on a fake clock once its outbox is empty. The sink pump sleeps on the
 * injected clock, and a poke that arrives during a sink write is lost (sink-pump.ts #run): nudge
 * the clock until the outbox drains, or stop() waits for a timer nobody advances.
 */
export async function stopDrained(
  gw: TestGateway | undefined,
  clock: FakeClock,
  opts?: { keepData?: boolean },
): Promise<void> {
  if (!gw) return;
  await expect
    .poll(() => {
      clock.advance(250);
      return gw.gateway.ctx.outbox.pending;
    })
    .toBe(0);
  await gw.stop(opts);
}
