import type { ModelSpec } from '../firmware-specs/define-device.ts';
import type { DevicePlan } from './hanoi.ts';
import {
  type DeviceCounters,
  emptyCounters,
  realClock,
  type SimClock,
  SimulatedDevice,
  type SimulatedDeviceOptions,
} from './mqtt-device.ts';

/** Options shared by every device of the fleet (qos, intervalMs, patternTime, misbehaviour...). */
export type FleetDeviceOptions = Omit<
  SimulatedDeviceOptions,
  'id' | 'spec' | 'firmware' | 'url' | 'secret' | 'lat' | 'lon' | 'clock'
>;

export interface FleetOptions {
  url: string;
  plans: readonly DevicePlan[];
  specs: ReadonlyMap<string, ModelSpec>;
  /** The MQTT secret of each device, as the registry returned it at registration. */
  secrets: ReadonlyMap<string, string> | Record<string, string> | ((id: string) => string);
  /** Connection ramp; Aedes stalls under a burst of thousands per second (docs/design.md). */
  connectsPerSecond?: number;
  clock?: SimClock;
  device?: FleetDeviceOptions;
  /** Per-device overrides, e.g. a few devices that never reply. */
  overrides?: (plan: DevicePlan) => Partial<FleetDeviceOptions> | undefined;
  onProgress?(progress: { started: number; connected: number; failed: number; total: number }): void;
}

export interface FleetStartResult {
  connected: number;
  failed: { id: string; error: string }[];
}

export interface FleetCounters extends DeviceCounters {
  devices: number;
  online: number;
}

// Starts a handful of devices every RAMP_TICK_MS rather than one timer per device.
const RAMP_TICK_MS = 20;

/** Many SimulatedDevices over one broker, connected at a bounded rate. */
export class Fleet {
  readonly devices = new Map<string, SimulatedDevice>();
  private readonly clock: SimClock;
  private stopping = false;

  constructor(private readonly opts: FleetOptions) {
    this.clock = opts.clock ?? realClock;
    for (const plan of opts.plans) {
      const spec = opts.specs.get(plan.model);
      if (!spec) throw new Error(`fleet: device ${plan.id} has unknown model ${plan.model}`);
      const secret = secretOf(opts.secrets, plan.id);
      if (secret === undefined) throw new Error(`fleet: no secret for device ${plan.id}`);
      this.devices.set(
        plan.id,
        new SimulatedDevice({
          ...opts.device,
          ...opts.overrides?.(plan),
          id: plan.id,
          spec,
          firmware: plan.firmware,
          url: opts.url,
          secret,
          lat: plan.lat,
          lon: plan.lon,
          clock: this.clock,
        }),
      );
    }
  }

  /** Connects every device, at most connectsPerSecond; resolves when each connected or failed. */
  async start(): Promise<FleetStartResult> {
    this.stopping = false;
    const all = [...this.devices.values()];
    const perTick = Math.max(1, Math.round(((this.opts.connectsPerSecond ?? 200) * RAMP_TICK_MS) / 1000));
    const tickMs = (perTick * 1000) / (this.opts.connectsPerSecond ?? 200);
    const result: FleetStartResult = { connected: 0, failed: [] };
    const pending: Promise<void>[] = [];
    const progress = (started: number) =>
      this.opts.onProgress?.({
        started,
        connected: result.connected,
        failed: result.failed.length,
        total: all.length,
      });
    for (let i = 0; i < all.length && !this.stopping; i += perTick) {
      if (i > 0) await new Promise<void>((resolve) => this.clock.setTimeout(resolve, tickMs));
      if (this.stopping) break;
      for (const device of all.slice(i, i + perTick)) {
        pending.push(
          device.start().then(
            () => {
              result.connected++;
            },
            (err: Error) => {
              result.failed.push({ id: device.id, error: err.message });
            },
          ),
        );
      }
      progress(Math.min(all.length, i + perTick));
    }
    await Promise.all(pending);
    progress(pending.length);
    return result;
  }

  get(id: string): SimulatedDevice | undefined {
    return this.devices.get(id);
  }

  counters(): FleetCounters {
    const total: FleetCounters = { ...emptyCounters(), devices: this.devices.size, online: 0 };
    for (const device of this.devices.values()) {
      for (const [key, value] of Object.entries(device.counters)) total[key as keyof DeviceCounters] += value;
      if (device.connected) total.online++;
    }
    return total;
  }

  /** Stops the ramp and ends every device gracefully. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.devices.values()].map((d) => d.stop()));
  }
}

function secretOf(secrets: FleetOptions['secrets'], id: string): string | undefined {
  if (typeof secrets === 'function') return secrets(id);
  if (secrets instanceof Map) return secrets.get(id);
  return (secrets as Record<string, string>)[id];
}
