import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/** The machine's Redis; REDIS_TEST_URL overrides. */
export const REDIS_TEST_URL = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379';

export interface TestRedis {
  url: string;
  /** Key and channel prefix of this test, ending in ':'. */
  prefix: string;
  /** Deletes every key under the prefix. */
  cleanup(): Promise<void>;
}

/**
 * A key prefix of its own for one test file. Redis pub/sub channels are server-wide, whatever the
 * prefix: tests that cluster brokers also use device ids of their own (see `prefix`).
 */
export function createTestRedis(label = 'test'): TestRedis {
  const prefix = `citygate-test:${label}:${randomBytes(4).toString('hex')}:`;
  return {
    url: REDIS_TEST_URL,
    prefix,
    async cleanup() {
      const redis = new Redis(REDIS_TEST_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
      await redis.connect();
      try {
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
          cursor = next;
          if (keys.length) await redis.del(...keys);
        } while (cursor !== '0');
      } finally {
        redis.disconnect();
      }
    },
  };
}
