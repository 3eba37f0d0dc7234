import type { Redis } from 'ioredis';

/** How long a stopping node waits for Redis to answer before it drops its connections. */
export const QUIT_WITHIN_MS = 1000;

/** `op`'s outcome, or a rejection after `ms` ("no answer within … ms"), the timer cleared either way. */
export async function withTimeout<T>(op: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([op, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Resolves when `op` does or after `ms`, whichever comes first, never rejecting. A node stopping
 * while Redis is unreachable must still stop: ioredis keeps a command (QUIT included) queued
 * until it reconnects.
 */
export const within = (op: Promise<unknown>, ms = QUIT_WITHIN_MS): Promise<void> =>
  withTimeout(op, ms).then(
    () => {},
    () => {},
  );

/** QUIT if Redis answers in time, then close the socket in any case. */
export async function quitWithin(redis: Redis, ms = QUIT_WITHIN_MS): Promise<void> {
  await within(redis.quit(), ms);
  redis.disconnect();
}
