import { Redis } from 'ioredis';
import type { Logger } from '../logger.ts';
import type { ClusterBus, ClusterMessages, ClusterTopic } from './cluster-bus.ts';
import { quitWithin } from './redis-quit.ts';

/** A bus message is a few ids; anything larger on the channel is not one of ours. */
export const MAX_BUS_MESSAGE_BYTES = 16 * 1024;

type Listener = (message: never, from: string) => void;

/** Fields a message of each topic must carry as strings; a topic added later is checked for flatness only. */
const REQUIRED: Partial<Record<ClusterTopic, readonly string[]>> = {
  'device.changed': ['id'],
  'commands.queued': ['deviceId'],
  'command.status': ['id', 'deviceId', 'status'],
  'desired.changed': ['deviceId'],
  'alarm.changed': ['id'],
};

/**
 * The ClusterBus over Redis pub/sub (issue 11): channel `<prefix>bus:<topic>`, payload
 * `{"from": nodeId, "message": {...}}`. Pub/sub is at most once and Redis does not keep a message
 * for a node that is reconnecting: receivers re-read the store (cluster-bus.ts), so a lost
 * message only delays a refresh until the next sweep.
 */
export class RedisClusterBus implements ClusterBus {
  readonly nodeId: string;
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly prefix: string;
  private readonly log: Logger;
  private readonly listeners = new Map<string, Listener[]>();
  /** The SUBSCRIBEs sent, for ready(). */
  private readonly subscribing: Array<Promise<unknown>> = [];
  private closed = false;

  constructor(opts: { url: string; prefix: string; nodeId: string; log: Logger }) {
    this.nodeId = opts.nodeId;
    this.prefix = `${opts.prefix}bus:`;
    this.log = opts.log;
    // ioredis reconnects on its own and re-subscribes the subscriber's channels after a reconnect.
    const options = { maxRetriesPerRequest: 2, enableOfflineQueue: true };
    this.pub = new Redis(opts.url, options);
    // No ready check (INFO) on the subscriber: a SUBSCRIBE queued before the connection opened
    // puts it in subscriber mode, where Redis refuses INFO ("only subscriber commands").
    this.sub = new Redis(opts.url, { ...options, enableReadyCheck: false });
    for (const [name, conn] of [
      ['publisher', this.pub],
      ['subscriber', this.sub],
    ] as const)
      conn.on('error', (err) => this.log.warn({ err: err.message, conn: name }, 'cluster bus: redis error'));
    this.sub.on('messageBuffer', (channel: Buffer, payload: Buffer) =>
      this.receive(channel.toString(), payload),
    );
  }

  /** Resolves once the subscriber holds every channel subscribed so far. */
  async ready(): Promise<void> {
    await Promise.all(this.subscribing);
  }

  publish<T extends ClusterTopic>(topic: T, message: ClusterMessages[T]): void {
    if (this.closed) return;
    let payload: string;
    try {
      payload = JSON.stringify({ from: this.nodeId, message });
    } catch (err) {
      this.log.error({ err, topic }, 'cluster bus: message not serializable');
      return;
    }
    this.pub
      .publish(this.prefix + topic, payload)
      .catch((err: Error) => this.log.warn({ err: err.message, topic }, 'cluster bus: publish failed'));
  }

  subscribe<T extends ClusterTopic>(topic: T, fn: (message: ClusterMessages[T], from: string) => void): void {
    const channel = this.prefix + topic;
    const list = this.listeners.get(channel);
    if (list) {
      list.push(fn as Listener);
      return;
    }
    this.listeners.set(channel, [fn as Listener]);
    this.subscribing.push(
      this.sub
        .subscribe(channel)
        .catch((err: Error) => this.log.warn({ err: err.message, topic }, 'cluster bus: subscribe failed')),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([quitWithin(this.pub), quitWithin(this.sub)]);
  }

  private receive(channel: string, payload: Buffer): void {
    const list = this.listeners.get(channel);
    if (!list) return;
    const topic = channel.slice(this.prefix.length) as ClusterTopic;
    const parsed =
      payload.length <= MAX_BUS_MESSAGE_BYTES ? parse(payload, REQUIRED[topic] ?? []) : undefined;
    if (!parsed) {
      this.log.warn({ channel, bytes: payload.length }, 'cluster bus: malformed message ignored');
      return;
    }
    if (parsed.from === this.nodeId) return;
    for (const fn of list) {
      try {
        fn(parsed.message as never, parsed.from);
      } catch (err) {
        this.log.error({ err, channel, from: parsed.from }, 'cluster bus listener failed');
      }
    }
  }
}

/** `{from, message}` with a flat message carrying the topic's fields, or undefined for anything else. */
function parse(
  payload: Buffer,
  required: readonly string[],
): { from: string; message: Record<string, unknown> } | undefined {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { from, message } = value as { from?: unknown; message?: unknown };
  if (typeof from !== 'string' || typeof message !== 'object' || message === null || Array.isArray(message))
    return undefined;
  const fields = message as Record<string, unknown>;
  if (Object.values(fields).some((v) => v !== null && typeof v === 'object')) return undefined;
  if (required.some((k) => typeof fields[k] !== 'string')) return undefined;
  return { from, message: fields };
}
