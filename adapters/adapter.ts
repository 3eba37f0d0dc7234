import type { Device, DeviceStore } from '../device-registry/devices.ts';
import type { ModelSpec } from '../firmware-specs/define-device.ts';
import type { Clock } from '../gateway/clock.ts';
import type { Ingest } from '../gateway/ingest/ingest.ts';
import type { Logger } from '../gateway/logger.ts';

/** What the gateway gives an adapter. */
export interface AdapterContext {
  devices: DeviceStore;
  specs: ReadonlyMap<string, ModelSpec>;
  /** The one ingest path: validation, quarantine, outbox, sink, last reading. */
  ingest: Ingest;
  clock: Clock;
  log: Logger;
  /** Report a device reachable or not (the registry and the command service follow it). */
  presence(device: Device, online: boolean): void;
}

export interface AdapterCommand {
  id: string;
  name: string;
  params: Record<string, unknown>;
}

export type AdapterResult = { ok: true; result?: Record<string, unknown> } | { ok: false; error: string };

/**
 * A protocol bridge (docs/design.md, adapters/): polls or listens to devices the MQTT broker
 * does not see, feeds their readings into ingest, and executes commands on them.
 */
export interface Adapter {
  readonly name: string;
  /** True when this adapter speaks to the device (e.g. it has a Modbus endpoint). */
  serves(device: Device): boolean;
  start(ctx: AdapterContext): Promise<void>;
  stop(): Promise<void>;
  /** Ids of the devices it serves now. */
  servedDevices(): string[];
  /**
   * It serves this device now, here: started and polling it. In a cluster one node's adapter
   * holds a device; another node's serves the same protocol but must leave its commands alone.
   */
  holds(deviceId: string): boolean;
  /**
   * Carries out a command; `onDelivered` is called once the device acknowledged the write,
   * the promise resolves with the confirmed outcome (after a read-back where there is one).
   */
  execute(device: Device, command: AdapterCommand, onDelivered: () => void): Promise<AdapterResult>;
}
