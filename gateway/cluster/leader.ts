import pg from 'pg';
import type { PgPool } from '../../device-registry/pg/pg-db.ts';
import { type Clock, systemClock } from '../clock.ts';
import type { Logger } from '../logger.ts';

/**
 * Who runs the work that must run once in a cluster (the campaign engine, the lighting
 * scheduler). `onGain` and `onLose` run one after the other, never overlapping.
 */
export interface Leadership {
  readonly name: string;
  isLeader(): boolean;
  start(): Promise<void>;
  /** Lets go (onLose runs first if this node led). */
  stop(): Promise<void>;
}

export interface LeaderHandlers {
  onGain(): void | Promise<void>;
  onLose(): void | Promise<void>;
}

/** The advisory-lock space of leaders (two-key form: apart from the one-key locks of the stores). */
export const LEADER_LOCK_CLASS = 0x6c656164; // "lead"

export interface LeaderOptions extends LeaderHandlers {
  /** What is led ("campaigns", "lighting"): the lock is hashtext(name). */
  name: string;
  /** A new connection of its own: the lock lives and dies with it. */
  connect(): Promise<pg.Client>;
  log: Logger;
  /** How often a follower tries the lock and a leader checks its connection. */
  retryMs?: number;
  clock?: Clock;
}

/**
 * Leadership on PostgreSQL: `pg_try_advisory_lock` on a dedicated connection. The lock is the
 * session's, so it goes when the holder's connection dies (process killed, network cut and
 * the server's keep-alive giving up), and another node takes it at its next try, a few
 * seconds later. The holder checks its connection at the same pace and steps down (onLose)
 * as soon as a check fails, so two nodes lead at once for at most about one check period.
 */
export class Leader implements Leadership {
  readonly name: string;
  readonly #o: LeaderOptions;
  readonly #clock: Clock;
  readonly #retryMs: number;
  #client: pg.Client | undefined;
  #leading = false;
  #running = false;
  #timer: unknown;
  /** gain/lose handlers, in order. */
  #chain: Promise<void> = Promise.resolve();

  constructor(opts: LeaderOptions) {
    this.name = opts.name;
    this.#o = opts;
    this.#clock = opts.clock ?? systemClock;
    this.#retryMs = opts.retryMs ?? 3000;
  }

  isLeader(): boolean {
    return this.#leading;
  }

  async start(): Promise<void> {
    this.#running = true;
    await this.#round();
  }

  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#setLeading(false);
    await this.#chain;
    // Ending the session releases the lock at once: a follower takes over at its next try.
    await this.#drop();
  }

  async #round(): Promise<void> {
    try {
      if (this.#leading) await this.#check();
      else await this.#try();
    } catch (err) {
      if (this.#running) this.#o.log.warn({ err, leader: this.name }, 'leadership check failed');
      this.#setLeading(false);
      await this.#drop();
    }
    await this.#chain;
    if (this.#running) this.#timer = this.#clock.setTimeout(() => void this.#round(), this.#retryMs);
  }

  async #try(): Promise<void> {
    if (!this.#client) {
      const client = await this.#o.connect();
      // A connection that breaks between rounds: no uncaught 'error', and no more leading.
      const lost = () => {
        if (this.#client !== client) return;
        this.#client = undefined;
        this.#setLeading(false);
      };
      client.on('error', lost);
      client.on('end', lost);
      this.#client = client;
    }
    const { rows } = await this.#client.query<{ ok: boolean }>(
      'SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok',
      [LEADER_LOCK_CLASS, this.name],
    );
    if (rows[0].ok && this.#running) this.#setLeading(true);
    // Stopped while this round was connecting: a lock taken meanwhile must not outlive it.
    if (!this.#running) await this.#drop();
  }

  async #check(): Promise<void> {
    if (!this.#client) throw new Error('the leader lost its connection');
    await this.#client.query('SELECT 1');
  }

  #setLeading(leading: boolean): void {
    if (this.#leading === leading) return;
    this.#leading = leading;
    this.#o.log.info({ leader: this.name, node: leading ? 'gained' : 'lost' }, 'leadership changed');
    const fn = leading ? this.#o.onGain : this.#o.onLose;
    this.#chain = this.#chain.then(async () => {
      try {
        await fn();
      } catch (err) {
        this.#o.log.error(
          { err, leader: this.name },
          `leadership ${leading ? 'gain' : 'loss'} handler failed`,
        );
      }
    });
  }

  async #drop(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => {});
  }
}

/** A Leader whose connections are made like the pool's (same server, database and role). */
export function pgLeader(pool: PgPool, opts: Omit<LeaderOptions, 'connect'>): Leader {
  const { connectionString, host, port, user, password, database } = pool.options;
  return new Leader({
    ...opts,
    async connect() {
      const client = new pg.Client({
        connectionString,
        host,
        port,
        user,
        password,
        database,
        keepAlive: true,
        // A check that hangs (a network cut) fails the round instead of waiting for TCP.
        query_timeout: opts.retryMs ?? 3000,
        connectionTimeoutMillis: opts.retryMs ?? 3000,
      });
      try {
        await client.connect();
      } catch (err) {
        await client.end().catch(() => {});
        throw err;
      }
      return client;
    },
  });
}
