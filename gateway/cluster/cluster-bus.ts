/**
 * Messages between the nodes of a cluster (issue 11): a device changed, commands were queued for a
 * device, its desired state moved. Delivered to the *other* nodes, at most once (Redis pub/sub):
 * a receiver re-reads the store, so a message says what to re-read, never the new value itself,
 * and a missed one is caught up by the periodic sweeps of whoever needs them.
 */
export interface ClusterMessages {
  /** A device was registered, changed, enabled, disabled, rotated or decommissioned. */
  'device.changed': { id: string };
  /** Commands were queued for the device: the node holding its connection sends them. */
  'commands.queued': { deviceId: string };
  /** A command changed status on the node that moved it (for live views on the others). */
  'command.status': { id: string; deviceId: string; status: string };
  /** The device's desired state changed (alarm conditions on the desired state read it). */
  'desired.changed': { deviceId: string };
  /** An alarm changed (other nodes refresh their views). */
  'alarm.changed': { id: string };
}

export type ClusterTopic = keyof ClusterMessages;

export interface ClusterBus {
  /** This node's id (NODE_ID); 'local' in single-process mode. */
  readonly nodeId: string;
  /** Sends to every other node; never throws (a failure is logged and counted). */
  publish<T extends ClusterTopic>(topic: T, message: ClusterMessages[T]): void;
  /** Messages of other nodes; a listener that throws is logged, never breaks the bus. */
  subscribe<T extends ClusterTopic>(topic: T, fn: (message: ClusterMessages[T], from: string) => void): void;
  close(): Promise<void>;
}

/** Single-process mode: there is no other node, nothing to tell. */
export const singleNodeBus: ClusterBus = {
  nodeId: 'local',
  publish() {},
  subscribe() {},
  async close() {},
};
