import type { Aedes, Client, Subscription } from 'aedes';
import type { Metrics } from './metrics.ts';

export interface TopicLimits {
  /** Subscriptions one live connection may hold. */
  maxSubscriptions: number;
  /** UTF-8 bytes of a PUBLISH topic or a SUBSCRIBE filter. */
  maxTopicLength: number;
}

interface SubscriptionStore {
  addSubscriptions(client: Client, subs: Subscription[]): Promise<unknown>;
}

/**
 * Topic length and subscriptions per client. A device needs one subscription (its command
 * topic); without a bound, 2,000 filters of 60 KB under that topic were all granted (+300 MB).
 * The count is per live connection: UNSUBSCRIBE and disconnect release it, and a persistent
 * session's restored subscriptions pass authorizeSubscribe again, so they count too.
 */
export class SubscriptionLimits {
  readonly #limits: TopicLimits;
  readonly #metrics: Metrics;
  readonly #held = new WeakMap<Client, Set<string>>();
  readonly #granted = new WeakSet<Subscription>();

  constructor(limits: TopicLimits, metrics: Metrics) {
    this.#limits = limits;
    this.#metrics = metrics;
  }

  /** True (and counted) when a topic or filter is longer than allowed. */
  topicTooLong(topic: string): boolean {
    const max = this.#limits.maxTopicLength;
    // A UTF-16 unit is 1 to 3 UTF-8 bytes: only a long topic needs measuring.
    if (topic.length * 3 <= max || (topic.length <= max && Buffer.byteLength(topic) <= max)) return false;
    this.#metrics.mqttRefused.inc({ reason: 'topic_too_long' });
    return true;
  }

  /** Takes one of the client's subscription slots for `sub`; false (and counted) when none is left. */
  grant(client: Client, sub: Subscription): boolean {
    let held = this.#held.get(client);
    if (!held) {
      held = new Set();
      this.#held.set(client, held);
    }
    if (!held.has(sub.topic) && held.size >= this.#limits.maxSubscriptions) {
      this.#metrics.mqttRefused.inc({ reason: 'too_many_subscriptions' });
      return false;
    }
    held.add(sub.topic);
    this.#granted.add(sub);
    return true;
  }

  /** Releases slots on UNSUBSCRIBE and disconnect; keeps refused filters out of persistent sessions. */
  attach(broker: Aedes): void {
    broker.on('unsubscribe', (filters, client) => {
      const held = this.#held.get(client);
      for (const f of filters) held?.delete(f);
    });
    broker.on('clientDisconnect', (client) => this.#held.delete(client));
    // Aedes stores every filter of a SUBSCRIBE packet in a persistent session (clean: false) as
    // soon as one of them is granted, refused ones included; they would pile up in memory.
    const store = (broker as unknown as { persistence: SubscriptionStore }).persistence;
    const addSubscriptions = store.addSubscriptions.bind(store);
    store.addSubscriptions = (client, subs) =>
      addSubscriptions(
        client,
        subs.filter((s) => this.#granted.has(s)),
      );
  }
}
