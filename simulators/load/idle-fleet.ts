import type { ModelSpec } from '../../firmware-specs/define-device.ts';
import { Fleet } from '../fleet.ts';
import type { CommandTiming, ProvisionedDevice } from './protocol.ts';

const MAX_ERRORS_KEPT = 20;
// Idle devices: connected, subscribed to their commands, reporting rarely (connection scale).
const IDLE_INTERVAL_MS = 30 * 60_000;

/**
 * The fleet side of one load worker: SimulatedDevices that connect in steps, stay idle, and obey
 * commands; it records when each command arrived and when its reply left (fan-out timing).
 */
export class IdleFleet {
  readonly timings: CommandTiming[] = [];
  readonly errors: string[] = [];
  readonly #fleets: Fleet[] = [];
  readonly #devices: readonly ProvisionedDevice[];
  readonly #specs: ReadonlyMap<string, ModelSpec>;
  readonly #url: string;
  #connectedUpTo = 0;
  connected = 0;
  failed = 0;

  constructor(opts: {
    url: string;
    devices: readonly ProvisionedDevice[];
    specs: ReadonlyMap<string, ModelSpec>;
  }) {
    this.#url = opts.url;
    this.#devices = opts.devices;
    this.#specs = opts.specs;
  }

  async connect(count: number, perSecond: number): Promise<void> {
    const plans = this.#devices.slice(this.#connectedUpTo, this.#connectedUpTo + count);
    this.#connectedUpTo += plans.length;
    if (plans.length === 0) return;
    const fleet = new Fleet({
      url: this.#url,
      plans,
      specs: this.#specs,
      secrets: new Map(plans.map((p) => [p.id, p.secret])),
      connectsPerSecond: perSecond,
      device: { qos: 1, intervalMs: IDLE_INTERVAL_MS, publishOnConnect: false, reconnectPeriod: 0 },
    });
    for (const device of fleet.devices.values()) {
      const open = new Map<string, CommandTiming>();
      device.on('command', ({ commandId, name }: { commandId: string; name: string }) => {
        const t: CommandTiming = { id: device.id, commandId, name, receivedAt: Date.now() };
        open.set(commandId, t);
        this.timings.push(t);
      });
      device.on('reply', ({ commandId, reply }: { commandId: string; reply: { ok: boolean } }) => {
        const t = open.get(commandId);
        if (!t || t.repliedAt !== undefined) return;
        t.repliedAt = Date.now();
        t.ok = reply.ok;
        open.delete(commandId);
      });
    }
    this.#fleets.push(fleet);
    const result = await fleet.start();
    this.connected += result.connected;
    this.failed += result.failed.length;
    for (const f of result.failed.slice(0, MAX_ERRORS_KEPT - this.errors.length))
      this.errors.push(`${f.id}: ${f.error}`);
  }

  timingsSince(since: number): CommandTiming[] {
    return this.timings.filter((t) => t.receivedAt >= since);
  }

  async stop(): Promise<void> {
    await Promise.all(this.#fleets.map((f) => f.stop()));
  }
}
