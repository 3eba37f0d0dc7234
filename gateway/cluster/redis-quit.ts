import type { Redis } from 'ioredis';

/** How long a stopping node waits for Redis to answer before it drops its connections. */
export const QUIT_WITHIN_MS = 1000;

/**
 * Resolves when `op` does or after `ms`, whichever comes first, never rejecting. A node stopping
 * while Redis is unreachable must still stop: ioredis keeps a command (QUIT included) queued
 * until it reconnects.
 */
export async function within(op: Promise<unknown>, ms = QUIT_WITHIN_MS): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    op.catch(() => {}),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}

/** QUIT if Redis answers in time, then close the socket in any case. */
export async function quitWithin(redis: Redis, ms = QUIT_WITHIN_MS): Promise<void> {
  await within(redis.quit(), ms);
  redis.disconnect();
}
