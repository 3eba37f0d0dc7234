import type { DevicePlan } from '../hanoi.ts';

/** A provisioned device: where it is and the secret the registry returned once. */
export interface ProvisionedDevice extends DevicePlan {
  secret: string;
}

export const WORKER_MODES = {
  /** Lean mqtt.js clients that publish telemetry at a rate and time each PUBACK. */
  publish: 'publish',
  /** SimulatedDevices that stay connected, idle, and obey commands (connection scale, fan-out). */
  fleet: 'fleet',
} as const;
export type WorkerMode = keyof typeof WORKER_MODES;

/** `max`: closed loop, each device keeps `inflight` messages outstanding; a number: readings/s. */
export type Rate = number | 'max';

export interface PublishCounters {
  sent: number;
  acked: number;
  /** Acknowledged by the end of the publishing window (the throughput figure). */
  ackedInWindow: number;
  /** Publishes whose callback reported an error (connection closed before the PUBACK). */
  failed: number;
  /** Readings the open-loop schedule wanted but a device already had its maximum in flight. */
  throttled: number;
  inflight: number;
  connected: number;
  connectFailed: number;
  disconnects: number;
}

export const emptyPublishCounters = (): PublishCounters => ({
  sent: 0,
  acked: 0,
  ackedInWindow: 0,
  failed: 0,
  throttled: 0,
  inflight: 0,
  connected: 0,
  connectFailed: 0,
  disconnects: 0,
});

export interface CommandTiming {
  id: string;
  commandId: string;
  name: string;
  receivedAt: number;
  repliedAt?: number;
  ok?: boolean;
}

export type ToWorker =
  | {
      type: 'init';
      mode: WorkerMode;
      url: string;
      qos: 0 | 1;
      devices: ProvisionedDevice[];
      /** This worker's share of the connection ramp. */
      connectsPerSecond: number;
      /** Pattern time runs this many times faster than the wall clock (default 1). */
      accelerate?: number;
      /** Bare broker: any credentials are accepted, so none is checked. */
      anonymous?: boolean;
    }
  /** Connects the next `count` devices (all when absent) at the ramp rate. */
  | { type: 'connect'; count?: number }
  | {
      type: 'publish';
      /** Wall time (epoch ms) at which every worker starts, so the load starts at once. */
      startAt: number;
      durationMs: number;
      /** This worker's share of the rate. */
      rate: Rate;
      inflight: number;
      /** After the duration, how long outstanding PUBACKs are awaited. */
      drainMs: number;
    }
  | { type: 'timings'; since: number }
  | { type: 'stop' };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'connected'; connected: number; failed: number; errors: string[] }
  | { type: 'progress'; counters: PublishCounters; histogram: number[] }
  | { type: 'published'; counters: PublishCounters; histogram: number[] }
  | { type: 'timings'; timings: CommandTiming[] }
  | { type: 'error'; message: string }
  | { type: 'stopped' };
