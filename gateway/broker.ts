import { Readable } from 'node:stream';
import { Aedes, type AuthenticateError, type Client, type PublishPacket } from 'aedes';
import type { Device, DeviceStore } from '../device-registry/devices.ts';
import type { AbuseGuards } from './abuse-guards.ts';
import { type BrokerClustering, markTakeovers } from './cluster/redis-broker.ts';
import { type ParsedTopic, parseDeviceTopic } from './ingest/topics.ts';
import { clip } from './log-guard.ts';
import type { Metrics } from './metrics.ts';
import { SubscriptionLimits, type TopicLimits } from './mqtt-subscription-limits.ts';
import { certificateLogin } from './tls.ts';

/** MQTT 3.1.1 CONNACK return codes [MQTT-3.2.2.3]. */
export const CONNACK = { serverUnavailable: 3, badUsernameOrPassword: 4, notAuthorized: 5 } as const;

export interface PublishRoute {
  device: Device;
  topic: ParsedTopic;
  packet: PublishPacket;
  done(err?: Error | null): void;
}

export interface BrokerHooks {
  /** A device's own telemetry, state or command reply; `done` releases the PUBACK. */
  onDevicePublish(route: PublishRoute): void;
}

function connackError(message: string, returnCode: number): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

interface Persistence {
  createRetainedStreamCombi(patterns: string[]): NodeJS.ReadableStream;
}

/** Command topics never hold a retained message: the gateway does not retain commands, devices may not publish there. */
const COMMAND_FILTER = /^devices\/[^/#+]+\/commands\//;

/**
 * A device's uplink topic. A packet from a client reaches publish() only after authorizePublish
 * let it through, and every topic a device may publish to is an uplink that went to ingest.
 */
const UPLINK = /^devices\/[^/]+\/(telemetry|state|commands\/[^/]+\/reply)$/;

/**
 * Aedes, minus the routing of device uplinks. Once a device's telemetry, state or reply has
 * passed authorizePublish it is ingested; no MQTT client may subscribe to it (devices see only
 * their own commands, the ACL), so routing it (retained store, offline queue lookup, emitter)
 * would only cost time: about a fifth of the broker's work per reading.
 */
class GatewayBroker extends Aedes {
  override publish(packet: PublishPacket, client: unknown, done?: (error?: Error) => void): void {
    if (typeof client === 'function') {
      super.publish(packet, client as (error?: Error) => void);
      return;
    }
    if (client && UPLINK.test(packet.topic)) {
      done?.();
      return;
    }
    (Aedes.prototype.publish as (p: PublishPacket, c: unknown, d?: (e?: Error) => void) => void).call(
      this,
      packet,
      client,
      done,
    );
  }
}

class AclError extends Error {
  override name = 'AclError';
}

/**
 * The embedded Aedes broker with device authentication and the per-device ACL of
 * docs/design.md: a device publishes only to its telemetry, state and reply topics and
 * subscribes only to its own commands.
 */
export async function createBroker(opts: {
  devices: DeviceStore;
  hooks: BrokerHooks;
  metrics: Metrics;
  /** A connection whose CONNECT has not fully arrived by then is closed. */
  connectTimeoutMs: number;
  limits: TopicLimits;
  guards: AbuseGuards;
  /** Cluster mode (issue 11): the Redis emitter and persistence; default in memory. */
  clustering?: BrokerClustering;
}): Promise<Aedes> {
  const { devices, hooks, metrics, guards } = opts;
  const limits = new SubscriptionLimits(opts.limits, metrics);
  const refuse = (reason: string) => metrics.connectionsRefused.inc({ reason });

  const clustering = opts.clustering;
  const broker = new GatewayBroker({
    ...(clustering && { id: clustering.id, mq: clustering.mq, persistence: clustering.persistence }),
    maxClientsIdLength: 128,
    connectTimeout: opts.connectTimeoutMs,
    heartbeatInterval: 60_000,
    drainTimeout: 30_000,
    concurrency: 1000,
    authenticate(client, username, password, done) {
      const id = client.id;
      const byCertificate = certificateLogin(client.conn, id, username, devices);
      if (byCertificate === 'ok') return done(null, true);
      if (byCertificate) {
        refuse(byCertificate);
        const code = byCertificate === 'disabled' ? CONNACK.notAuthorized : CONNACK.badUsernameOrPassword;
        return done(connackError(`connection refused: ${byCertificate}`, code), false);
      }
      if (!username || username !== id || !password) {
        refuse('bad_credentials');
        return done(
          connackError('client id and username must both be the device id', CONNACK.badUsernameOrPassword),
          false,
        );
      }
      const address = guards.addressOf(client);
      guards.auth.verify(address, id, password.toString('utf8')).then(
        (outcome) => {
          if ('result' in outcome && outcome.result === 'ok') return done(null, true);
          const { reason, returnCode } = guards.refusal(outcome);
          refuse(reason);
          guards.logs.write(
            'info',
            `refused_${reason}`,
            { deviceId: clip(id), address },
            'mqtt connection refused',
          );
          done(connackError(`connection refused: ${reason}`, returnCode), false);
        },
        (err) => {
          refuse('error');
          guards.logs.write(
            'error',
            'credential_error',
            { err, deviceId: clip(id) },
            'credential check failed',
          );
          done(connackError('credential check failed', CONNACK.notAuthorized), false);
        },
      );
    },
    authorizePublish(client: Client | null, packet: PublishPacket, done) {
      if (limits.topicTooLong(packet.topic)) return done(new AclError('topic too long'));
      if (guards.publishes.hold(client?.id, packet, () => this.authorizePublish!(client, packet, done)))
        return;
      // client is null for a stale Last Will of a broker that is gone: not a device speaking.
      const device = client ? devices.get(client.id) : undefined;
      const topic = parseDeviceTopic(packet.topic);
      if (
        !client ||
        !device ||
        !topic ||
        topic.deviceId !== client.id ||
        !device.enabled ||
        (topic.kind !== 'telemetry' && topic.kind !== 'state' && topic.kind !== 'reply')
      ) {
        metrics.aclDenied.inc({ action: 'publish' });
        const fields = { deviceId: clip(client?.id), topic: clip(packet.topic) };
        guards.logs.write('warn', 'acl_publish', fields, 'publish refused by ACL');
        return done(new AclError(`${client?.id ?? 'unknown'} may not publish to ${packet.topic}`));
      }
      hooks.onDevicePublish({ device, topic, packet, done });
    },
    authorizeSubscribe(client, sub, done) {
      if (limits.topicTooLong(sub.topic)) return done(null, null); // SUBACK 0x80 [MQTT-3.9.3-2]
      const own = `devices/${client.id}/commands/`;
      const ok =
        sub.topic.startsWith(own) &&
        !sub.topic.slice(own.length).includes('/#') &&
        sub.topic.split('/').length <= 4;
      if (!ok) {
        metrics.aclDenied.inc({ action: 'subscribe' });
        const fields = { deviceId: clip(client.id), topic: clip(sub.topic) };
        guards.logs.write('warn', 'acl_subscribe', fields, 'subscription refused by ACL');
        return done(null, null); // SUBACK 0x80 [MQTT-3.9.3-2]
      }
      if (!limits.grant(client, sub)) return done(null, null);
      done(null, sub);
    },
  });
  if (clustering) {
    (broker as unknown as { counter: number }).counter = clustering.counterStart;
    markTakeovers(broker);
  }
  await broker.listen();
  limits.attach(broker);

  // Connections, presence, command delivery and PUBACKs: gateway/device-link.ts.
  const persistence = (broker as unknown as { persistence: Persistence }).persistence;
  // The in-memory store scans every retained message (one status per device) on each SUBSCRIBE;
  // a device's only subscription, its command topic, can hold none, so the scan is skipped.
  const retainedFor = persistence.createRetainedStreamCombi.bind(persistence);
  persistence.createRetainedStreamCombi = (patterns) =>
    patterns.every((p) => COMMAND_FILTER.test(p)) ? Readable.from([]) : retainedFor(patterns);
  broker.on('clientError', (client, err) => {
    if (!(err instanceof AclError))
      guards.logs.write(
        'debug',
        'client_error',
        { deviceId: clip(client?.id), err: err.message },
        'mqtt client error',
      );
  });
  broker.once('closed', () => guards.close());
  if (clustering)
    broker.once('closed', () => {
      // Aedes closes its emitter, not its persistence (and with it the Redis connection).
      (persistence as unknown as { destroy(): Promise<void> }).destroy().catch(() => {});
    });
  return broker;
}
