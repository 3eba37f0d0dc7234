import type { Counter } from 'prom-client';
import type { Delivery, DeliveryOutcome, Webhook, WebhookStore } from '../../device-registry/webhooks.ts';
import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import type { LoggedEvent } from './event-log.ts';
import { isRelayed } from './relayed-events.ts';
import { postWebhook } from './webhook-http.ts';
import { SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER } from './webhook-signature.ts';

export interface WebhookDispatchOptions {
  maxAttempts: number;
  /** Pending deliveries per webhook; past it the oldest is dropped (and counted). */
  queueCap: number;
  timeoutMs: number;
  maxResponseBytes: number;
  /** Back-off: baseDelayMs × 2^(attempt-1), capped at maxDelayMs, with ±20 % jitter. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Attempts in flight at once, over all webhooks. */
  concurrency: number;
  random: () => number;
  /**
   * In a cluster (issue 11): look for due deliveries at least this often, since other nodes queue
   * them too; unset in single-process mode, where every delivery is queued here.
   */
  pollMs?: number;
}

export const DEFAULT_WEBHOOK_DISPATCH: Omit<WebhookDispatchOptions, 'maxAttempts'> = {
  queueCap: 1000,
  timeoutMs: 10_000,
  maxResponseBytes: 4096,
  baseDelayMs: 1000,
  maxDelayMs: 3600_000,
  concurrency: 4,
  random: Math.random,
};

/**
 * Does this webhook want this event? Severities filter alarm events only. A shelved alarm raises
 * no notification until its shelf time ends (ISA-18.2, shelving), so only its shelved/unshelved
 * transitions are sent meanwhile.
 */
export function wants(hook: Webhook, e: LoggedEvent['event'], now: number): boolean {
  if (!hook.types.includes(e.type)) return false;
  if (e.type !== 'alarm') return true;
  if (hook.severities !== null && !hook.severities.includes(e.alarm.severity)) return false;
  const shelved = e.alarm.shelvedUntil !== null && Date.parse(e.alarm.shelvedUntil) > now;
  return !shelved || e.transition === 'shelved' || e.transition === 'unshelved';
}

/**
 * Sends events to the registered webhooks, at least once: each delivery is persisted before its
 * first attempt and retried with exponential back-off and jitter (the AWS Architecture Blog,
 * "Exponential Backoff And Jitter"), so a restart resumes the retries. An attempt claims its
 * delivery with a lease past its timeout, so a crash mid-attempt retries it after the lease, and
 * with several nodes on one database (issue 11) each attempt is made by one node only.
 */
export class WebhookDispatcher {
  readonly #store: WebhookStore;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #outcomes: Counter;
  readonly #opts: WebhookDispatchOptions;
  readonly #inflight = new Map<number, Promise<void>>();
  readonly #abort = new AbortController();
  #timer: unknown = null;
  /** No attempts before start() nor after stop(); events are queued from construction until stop(). */
  #stopped = true;
  #closed = false;
  /** Store calls are chained, so deliveries are queued in event order even if the store is async. */
  #chain: Promise<unknown> = Promise.resolve();
  /**
   * The registered webhooks, read once and kept until one is added or removed: every command
   * transition is an event, so a bulk roll-out would otherwise read the table thousands of times.
   */
  #hooks: readonly Webhook[] | null = null;
  /** In a cluster, webhooks are added and removed through other nodes too: the list is read again after this. */
  #hooksUntil = Number.POSITIVE_INFINITY;

  constructor(
    store: WebhookStore,
    deps: { clock: Clock; log: Logger; outcomes: Counter },
    opts: WebhookDispatchOptions,
  ) {
    this.#store = store;
    this.#clock = deps.clock;
    this.#log = deps.log;
    this.#outcomes = deps.outcomes;
    this.#opts = opts;
  }

  start(): void {
    this.#stopped = false;
    this.#pump();
  }

  /**
   * Stops timers and cancels the attempts in flight. Their deliveries stay pending under their
   * lease and are sent again after it on the next start: at least once, so receivers dedupe by `id`.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#closed = true;
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
    await this.#chain;
    this.#abort.abort();
    await Promise.all(this.#inflight.values());
  }

  /** Called for every logged event; never throws into the event bus. */
  onEvent(e: LoggedEvent): void {
    // An event relayed from another node was queued there.
    if (e.event.type === 'summary' || this.#closed || isRelayed(e.event)) return;
    // With no webhook registered, nothing to queue (and no promise per event).
    if (this.#clock.now() >= this.#hooksUntil) this.#hooks = null;
    if (this.#hooks?.length === 0) return;
    this.#enqueue(e);
  }

  /** A webhook was added or removed: the list is read again for the next event. */
  webhooksChanged(): void {
    this.#hooks = null;
  }

  #enqueue(e: LoggedEvent): void {
    this.#chain = this.#chain
      .then(async () => {
        const now = this.#clock.now();
        if (this.#hooks === null) {
          this.#hooks = await this.#store.list({ limit: 1000, offset: 0 });
          if (this.#opts.pollMs !== undefined) this.#hooksUntil = now + this.#opts.pollMs;
        }
        const hooks = this.#hooks;
        let queued = 0;
        for (const hook of hooks) {
          if (!wants(hook, e.event, now)) continue;
          const body = JSON.stringify({ id: e.id, ...e.event });
          const dropped = await this.#store.enqueue(
            hook.id,
            { eventId: e.id, eventType: e.event.type, body },
            now,
            this.#opts.queueCap,
          );
          queued++;
          if (dropped) {
            this.#outcomes.inc({ outcome: 'dropped' }, dropped);
            this.#log.warn(
              { webhook: hook.id, dropped },
              'webhook queue full; the oldest deliveries dropped',
            );
          }
        }
        if (queued) this.#pump();
      })
      .catch((err) => this.#log.error({ err, event: e.id }, 'could not queue webhook deliveries'));
  }

  /** Starts the due attempts (up to the concurrency) and arms a timer for the next one. */
  #pump(): void {
    this.#chain = this.#chain
      .then(async () => {
        const free = this.#opts.concurrency - this.#inflight.size;
        // With every slot busy there is nothing to arm: a finishing attempt pumps again.
        if (this.#stopped || free <= 0) return;
        const now = this.#clock.now();
        // Claimed under a lease past the attempt's timeout: no other node (nor this one) takes
        // them again before this attempt has settled or its lease has run out.
        const lease = now + this.#opts.timeoutMs + 1000;
        for (const d of await this.#store.claim(now, free, lease)) {
          const attempt = this.#attempt(d, lease).finally(() => {
            this.#inflight.delete(d.id);
            this.#pump();
          });
          this.#inflight.set(d.id, attempt);
        }
        if (this.#inflight.size < this.#opts.concurrency) await this.#arm(now);
      })
      .catch((err) => {
        this.#log.error({ err }, 'webhook dispatch failed; retried at the next event or poll');
        this.#wake(this.#opts.pollMs ?? null);
      });
  }

  async #arm(now: number): Promise<void> {
    const at = await this.#store.nextDueAt();
    // Everything due was just started, so a past time is a lease still in flight: look in a second.
    let delay = at === null ? null : at <= now ? 1000 : at - now;
    // Other nodes queue deliveries too (and may die before attempting them): look at least this often.
    if (this.#opts.pollMs !== undefined) delay = Math.min(delay ?? this.#opts.pollMs, this.#opts.pollMs);
    this.#wake(delay);
  }

  #wake(delay: number | null): void {
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
    if (delay === null || this.#stopped) return;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = null;
      this.#pump();
    }, delay);
  }

  backoff(attempts: number): number {
    const { baseDelayMs, maxDelayMs, random } = this.#opts;
    const delay = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.min(attempts - 1, 30));
    return Math.round(delay * (0.8 + 0.4 * random()));
  }

  async #attempt(d: Delivery, lease: number): Promise<void> {
    try {
      const hook = await this.#store.get(d.webhookId);
      if (!hook) return; // deleted meanwhile: its deliveries went with it
      const timestamp = Math.floor(this.#clock.now() / 1000);
      const result = await postWebhook(
        hook.url,
        d.body,
        {
          'user-agent': 'citygate-webhooks/1',
          'x-citygate-event': d.eventType,
          'x-citygate-delivery': String(d.id),
          [TIMESTAMP_HEADER]: String(timestamp),
          [SIGNATURE_HEADER]: signWebhook(hook.secret, timestamp, d.body),
        },
        {
          clock: this.#clock,
          timeoutMs: this.#opts.timeoutMs,
          maxResponseBytes: this.#opts.maxResponseBytes,
          signal: this.#abort.signal,
        },
      );
      if (this.#closed) return;
      const attempts = d.attempts + 1;
      const now = this.#clock.now();
      let outcome: DeliveryOutcome;
      if (result.error === null) {
        outcome = {
          status: 'delivered',
          attempts,
          nextAttemptAt: null,
          lastStatusCode: result.statusCode,
          lastError: null,
        };
      } else if (attempts >= this.#opts.maxAttempts) {
        outcome = {
          status: 'failed',
          attempts,
          nextAttemptAt: null,
          lastStatusCode: result.statusCode,
          lastError: result.error,
        };
        this.#log.warn(
          { webhook: hook.id, delivery: d.id, attempts, error: result.error },
          'webhook delivery gave up',
        );
      } else {
        outcome = {
          status: 'pending',
          attempts,
          nextAttemptAt: now + this.backoff(attempts),
          lastStatusCode: result.statusCode,
          lastError: result.error,
        };
      }
      if (!(await this.#store.settle(d.id, outcome, now, lease))) {
        this.#log.warn({ delivery: d.id }, 'webhook attempt outlived its lease; its outcome is not recorded');
        return;
      }
      this.#outcomes.inc({ outcome: outcome.status === 'pending' ? 'retried' : outcome.status });
    } catch (err) {
      this.#log.error(
        { err, delivery: d.id },
        'webhook attempt failed unexpectedly; retried after its lease',
      );
    }
  }
}
