import type { GatewayEvent } from './bus.ts';

/**
 * Events a node publishes on its own bus only to show what happened on another node of the
 * cluster (issue 11), e.g. an alarm moved through node B's API, shown on node C's live stream.
 * They are marked by identity, not by a field, so streams and webhook bodies stay as they are;
 * webhooks skip them (the node where the event happened queued its deliveries).
 */
const relayed = new WeakSet<GatewayEvent>();

export function markRelayed<E extends GatewayEvent>(event: E): E {
  relayed.add(event);
  return event;
}

export function isRelayed(event: GatewayEvent): boolean {
  return relayed.has(event);
}
