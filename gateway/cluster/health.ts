import { Redis } from 'ioredis';
import type { PgPool } from '../../device-registry/pg/pg-db.ts';
import type { Clock } from '../clock.ts';
import { withTimeout } from './redis-quit.ts';

/** A check that takes longer than this counts as failed: a load balancer polls with a short timeout. */
export const HEALTH_TIMEOUT_MS = 1000;
/** Probes every load balancer and scraper share: one round-trip each per second at most. */
export const HEALTH_CACHE_MS = 1000;

/**
 * Whether this node reaches its Redis and PostgreSQL (issue 11): the reasons `/readyz` adds,
 * `redis: <error>` and `postgres: <error>`, empty when both answer. A node that cannot reach
 * them cannot route MQTT across nodes or write to the registry; its load balancer should move
 * devices to a node that can.
 */
export class ClusterHealth {
  private readonly redis: Redis;
  private cached: { at: number; reasons: Promise<string[]> } | undefined;

  constructor(private readonly opts: { redisUrl: string; pg: PgPool; clock: Clock }) {
    // No offline queue: a PING while Redis is away fails at once instead of waiting for it.
    this.redis = new Redis(opts.redisUrl, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: HEALTH_TIMEOUT_MS,
      retryStrategy: () => 500,
    });
    this.redis.on('error', () => {}); // reported by reasons(), not logged every half second
  }

  reasons(): Promise<string[]> {
    const now = this.opts.clock.now();
    if (this.cached && now - this.cached.at < HEALTH_CACHE_MS) return this.cached.reasons;
    const reasons = Promise.all([
      probe('redis', () => this.redis.ping()),
      probe('postgres', () => this.opts.pg.query('SELECT 1')),
    ]).then((r) => r.filter((x): x is string => x !== null));
    this.cached = { at: now, reasons };
    return reasons;
  }

  close(): void {
    this.redis.disconnect();
  }
}

const probe = (name: string, check: () => Promise<unknown>): Promise<string | null> =>
  withTimeout(Promise.resolve().then(check), HEALTH_TIMEOUT_MS).then(
    () => null,
    (err: Error) => `${name}: ${err?.message || String(err)}`,
  );
