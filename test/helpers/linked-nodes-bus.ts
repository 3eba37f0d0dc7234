import type { ClusterBus, ClusterMessages, ClusterTopic } from '../../gateway/cluster/cluster-bus.ts';

/**
 * ClusterBuses for nodes living in one test process: what one node publishes reaches the others
 * (never itself), asynchronously as over Redis. For store-level cluster tests, where the nodes
 * share a real PostgreSQL database but need no broker.
 */
export function linkedNodeBuses(nodeIds: string[]): Record<string, ClusterBus> {
  const listeners = new Map<string, Array<{ topic: ClusterTopic; fn: (m: never, from: string) => void }>>();
  const buses: Record<string, ClusterBus> = {};
  for (const nodeId of nodeIds) {
    listeners.set(nodeId, []);
    buses[nodeId] = {
      nodeId,
      publish<T extends ClusterTopic>(topic: T, message: ClusterMessages[T]) {
        for (const [other, subs] of listeners) {
          if (other === nodeId) continue;
          for (const s of subs)
            if (s.topic === topic)
              setImmediate(() => (s.fn as (m: ClusterMessages[T], f: string) => void)(message, nodeId));
        }
      },
      subscribe(topic, fn) {
        listeners.get(nodeId)?.push({ topic, fn: fn as (m: never, from: string) => void });
      },
      async close() {
        listeners.set(nodeId, []);
      },
    };
  }
  return buses;
}
