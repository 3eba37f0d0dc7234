import type { Client } from 'aedes';
import type { DeviceStore } from '../device-registry/devices.ts';
import { type AuthOutcome, AuthThrottle, THROTTLE_REASONS } from './auth-throttle.ts';
import { CONNACK } from './broker.ts';
import type { Clock } from './clock.ts';
import type { Config } from './config.ts';
import { LogGuard } from './log-guard.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';
import { PublishRateLimiter } from './publish-rate-limit.ts';

/** What the broker uses against abusive clients: auth throttling, publish rate, bounded logs. */
export interface AbuseGuards {
  auth: AuthThrottle;
  publishes: PublishRateLimiter;
  logs: LogGuard;
  /** Wraps the MQTT listener's connection handler: banned attackers are dropped on accept. */
  gate<S extends { remoteAddress?: string; destroy(): void }>(
    handle: (socket: S) => unknown,
  ): (socket: S) => void;
  /** The source address of a client, for the per-address throttle. */
  addressOf(client: Client): string;
  /** A refused CONNECT: the reason counted and logged, and its CONNACK return code [MQTT-3.2.2.3]. */
  refusal(outcome: AuthOutcome): { reason: string; returnCode: number };
  close(): void;
}

export function createAbuseGuards(opts: {
  config: Config;
  devices: DeviceStore;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
}): AbuseGuards {
  const { config, devices, clock, log, metrics } = opts;
  const logs = new LogGuard(log, clock);
  const auth = new AuthThrottle({
    devices,
    clock,
    windowMs: config.AUTH_FAILURE_WINDOW_SECONDS * 1000,
    failuresBeforeBackoff: config.AUTH_FAILURES_BEFORE_BACKOFF,
    failuresBeforeBan: config.AUTH_FAILURES_BEFORE_BAN,
    banMs: config.AUTH_BAN_SECONDS * 1000,
    pendingPerAddress: config.AUTH_PENDING_PER_ADDRESS,
  });
  const publishes = new PublishRateLimiter({
    clock,
    perSecond: config.DEVICE_RATE_PER_SEC,
    burst: config.DEVICE_RATE_BURST,
    onLimited: () => metrics.deviceRateLimited.inc(),
    onError: (err) => log.error({ err }, 'publish after rate limit wait failed'),
  });
  return {
    auth,
    publishes,
    logs,
    gate: (handle) => (socket) => {
      if (auth.dropOnAccept(socket.remoteAddress ?? '')) {
        metrics.connectionsRefused.inc({ reason: 'banned' });
        metrics.authThrottled.inc({ reason: 'banned' });
        logs.write(
          'info',
          'dropped_banned',
          { address: socket.remoteAddress },
          'banned address: connection dropped',
        );
        socket.destroy();
        return;
      }
      handle(socket);
    },
    addressOf: (client) => (client.conn as { remoteAddress?: string }).remoteAddress ?? 'unknown',
    refusal(outcome) {
      if ('result' in outcome) {
        const { result } = outcome;
        if (result === 'busy') {
          metrics.authThrottled.inc({ reason: 'queue_full' });
          return { reason: 'busy', returnCode: CONNACK.serverUnavailable };
        }
        const refusedForGood = result === 'disabled' || result === 'decommissioned';
        const returnCode = refusedForGood ? CONNACK.notAuthorized : CONNACK.badUsernameOrPassword;
        return { reason: result, returnCode };
      }
      metrics.authThrottled.inc({ reason: outcome.throttled });
      switch (outcome.throttled) {
        case THROTTLE_REASONS.banned:
          return { reason: 'banned', returnCode: CONNACK.notAuthorized };
        case THROTTLE_REASONS.backoff:
          return { reason: 'throttled', returnCode: CONNACK.notAuthorized };
        default:
          return { reason: 'busy', returnCode: CONNACK.serverUnavailable };
      }
    },
    close() {
      publishes.close();
      logs.close();
    },
  };
}
