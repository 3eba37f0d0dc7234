import type { PublishRoute } from '../broker.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { Ingest } from './ingest.ts';

/** Device-chosen text in a log line or a reason: bounded. */
const MAX_TEXT = 200;
const clip = (s: string) => (s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT)}…` : s);

/**
 * Wraps the broker's publish hook so that nothing a device sends throws out of it: a throw
 * inside authorizePublish would end the process. The message is logged with its context,
 * quarantined as an internal error and acknowledged (released once, whatever the handler did
 * before it threw), so a persistent session does not re-send the same poison on every reconnect.
 */
export function containPublish(
  handler: (route: PublishRoute) => void,
  deps: { ingest: Ingest; log: Logger; metrics: Metrics },
): (route: PublishRoute) => void {
  return (route) => {
    let released = false;
    const done = (err?: Error | null) => {
      if (released) return;
      released = true;
      route.done(err);
    };
    try {
      handler({ ...route, done });
    } catch (thrown) {
      const message = clip(thrown instanceof Error ? thrown.message : String(thrown));
      const { packet, device } = route;
      const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(String(packet.payload));
      deps.metrics.ingestErrors.inc();
      deps.log.error(
        { err: thrown, deviceId: device.id, topic: clip(packet.topic), bytes: payload.length },
        'a device message made its handler throw; quarantined and acknowledged',
      );
      try {
        deps.ingest.internalError(
          { device, topic: packet.topic, payload, acknowledged: packet.qos > 0, source: 'mqtt' },
          { path: '$', message: `internal error: ${message}` },
          done,
        );
      } catch (again) {
        deps.log.error({ err: again, deviceId: device.id }, 'could not quarantine it either');
        done(again as Error);
      }
    }
  };
}

/**
 * Wraps a broker event hook (presence, a device's PUBACK): Aedes calls it from an event
 * listener, where a throw would end the process. The error is logged and counted, not thrown.
 */
export function containHook<A extends unknown[]>(
  what: string,
  hook: (...args: A) => void,
  deps: { log: Logger; metrics: Metrics },
): (...args: A) => void {
  return (...args) => {
    try {
      hook(...args);
    } catch (err) {
      deps.metrics.ingestErrors.inc();
      deps.log.error({ err, hook: what }, 'a broker hook threw');
    }
  };
}

/**
 * Calls one hook of several parts in turn, each containing its own errors: a part that throws is
 * logged and counted, and the parts after it still hear the call.
 */
export function containEach<A extends unknown[]>(
  what: string,
  hooks: ReadonlyArray<{ name: string; hook: ((...args: A) => void) | undefined }>,
  deps: { log: Logger; metrics: Metrics },
): (...args: A) => void {
  const contained = hooks.flatMap(({ name, hook }) =>
    hook ? [containHook(what, hook, { log: deps.log.child({ part: name }), metrics: deps.metrics })] : [],
  );
  return (...args) => {
    for (const h of contained) h(...args);
  };
}
