import { expect } from 'vitest';
import type { TestGateway } from './gateway.ts';

/**
 * Stops a gateway on a fake clock once its outbox is empty: a pump stopped in the middle of a
 * sink write then sleeps on the fake clock, which nobody advances any more (sink-pump.ts #run).
 */
export async function stopDrained(gw: TestGateway | undefined, opts?: { keepData?: boolean }): Promise<void> {
  if (!gw) return;
  await expect.poll(() => gw.gateway.ctx.outbox.pending).toBe(0);
  await gw.stop(opts);
}
