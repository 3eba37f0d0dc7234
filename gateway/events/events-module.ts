import { Counter, Gauge } from 'prom-client';
import { PgWebhookStore } from '../../device-registry/pg/pg-webhooks.ts';
import { SqliteWebhookStore, type WebhookStore } from '../../device-registry/webhooks.ts';
import type { GatewayContext } from '../context.ts';
import type { GatewayModule } from '../gateway.ts';
import type { GatewayEvent } from './bus.ts';
import { EventLog } from './event-log.ts';
import { EventStreams } from './event-streams.ts';
import { eventsRoutes } from './events-routes.ts';
import { type OpenAlarmCounts, SummaryPublisher } from './summary.ts';
import {
  DEFAULT_WEBHOOK_DISPATCH,
  WebhookDispatcher,
  type WebhookDispatchOptions,
} from './webhook-dispatcher.ts';
import { webhookRoutes } from './webhook-routes.ts';

export interface EventsOptions {
  /** EVENTS_BUFFER: events kept for Last-Event-ID resume. */
  bufferSize: number;
  /** EVENTS_MAX_CLIENTS: concurrent GET /api/events streams. */
  maxClients: number;
  /** WEBHOOK_MAX_ATTEMPTS: attempts per delivery before it is marked failed. */
  webhookMaxAttempts: number;
  heartbeatMs?: number;
  summaryMs?: number;
  /** Bytes a stream's socket is given before frames wait for it to drain. */
  maxBufferedBytes?: number;
  webhooks?: Partial<WebhookDispatchOptions>;
  /** Another store; default: PostgreSQL in a cluster (issue 11), else the registry's SQLite. */
  store?: (ctx: GatewayContext) => WebhookStore;
}

export interface EventsModule extends GatewayModule {
  readonly log: EventLog;
  readonly summary: SummaryPublisher;
  readonly webhooks: WebhookDispatcher;
  /** Where the alarm service plugs its open-alarm counts into the summary. */
  provideOpenAlarmCounts(fn: OpenAlarmCounts): void;
}

/** How often a cluster node looks for due webhook deliveries it did not queue itself. */
const CLUSTER_WEBHOOK_POLL_MS = 2000;

function districtOf(ctx: GatewayContext) {
  return (e: GatewayEvent): string | null => {
    switch (e.type) {
      case 'alarm':
        return e.alarm.district;
      case 'presence':
        return e.district;
      case 'command':
        return ctx.devices.get(e.deviceId)?.district ?? null;
      default:
        return null;
    }
  };
}

/**
 * Live events (issue 9): numbers every GatewayEvent of ctx.events into a bounded log, streams it
 * over GET /api/events, publishes the once-a-second summary, and sends events to webhooks.
 */
export function eventsModule(opts: EventsOptions): EventsModule {
  let log: EventLog;
  let streams: EventStreams;
  let summary: SummaryPublisher;
  let dispatcher: WebhookDispatcher;
  let store: WebhookStore;
  let openAlarms: OpenAlarmCounts | null = null;
  return {
    name: 'events',
    get log() {
      return log;
    },
    get summary() {
      return summary;
    },
    get webhooks() {
      return dispatcher;
    },
    provideOpenAlarmCounts(fn) {
      openAlarms = fn;
      if (summary) summary.openAlarmCounts = fn;
    },
    init(ctx) {
      const registers = [ctx.metrics.registry];
      log = new EventLog(opts.bufferSize, ctx.clock.now());
      ctx.events.subscribe((e) => log.append(e));
      streams = new EventStreams({
        log,
        clock: ctx.clock,
        logger: ctx.log.child({ module: 'events' }),
        gauge: new Gauge({
          name: 'citygate_events_clients',
          help: 'Open GET /api/events streams',
          registers,
        }),
        slowDropped: new Counter({
          name: 'citygate_events_slow_clients_dropped_total',
          help: 'Events streams closed because the client read too slowly',
          registers,
        }),
        districtOf: districtOf(ctx),
        opts: {
          maxClients: opts.maxClients,
          heartbeatMs: opts.heartbeatMs ?? 15_000,
          maxBufferedBytes: opts.maxBufferedBytes ?? 256 * 1024,
          bufferSize: opts.bufferSize,
        },
      });
      store = opts.store?.(ctx) ?? (ctx.pg ? new PgWebhookStore(ctx.pg) : new SqliteWebhookStore(ctx.db));
      dispatcher = new WebhookDispatcher(
        store,
        {
          clock: ctx.clock,
          log: ctx.log.child({ module: 'webhooks' }),
          outcomes: new Counter({
            name: 'citygate_webhook_deliveries_total',
            help: 'Webhook delivery attempts by outcome (delivered, retried, failed, dropped)',
            labelNames: ['outcome'],
            registers,
          }),
        },
        {
          ...DEFAULT_WEBHOOK_DISPATCH,
          // In a cluster, deliveries queued by other nodes (or left by a dead one) are found by polling.
          pollMs: ctx.pg ? CLUSTER_WEBHOOK_POLL_MS : undefined,
          ...opts.webhooks,
          maxAttempts: opts.webhookMaxAttempts,
        },
      );
      log.subscribe((e) => dispatcher.onEvent(e));
      summary = new SummaryPublisher(ctx, opts.summaryMs ?? 1000);
      if (openAlarms) summary.openAlarmCounts = openAlarms;
    },
    routes(app, ctx) {
      eventsRoutes(streams, opts.maxClients)(app, ctx);
      webhookRoutes(store, () => dispatcher.webhooksChanged())(app, ctx);
    },
    start() {
      streams.start();
      dispatcher.start();
      summary.start();
    },
    async stop() {
      summary.stop();
      streams.stop();
      await dispatcher.stop();
    },
  };
}
