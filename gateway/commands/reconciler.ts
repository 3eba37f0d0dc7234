import { type CommandStore, type DesiredEntry, OPEN_STATUSES } from '../../device-registry/commands.ts';
import type { Device } from '../../device-registry/devices.ts';
import type { Logger } from '../logger.ts';
import type { SubmitRequest } from './command-service.ts';

interface ReconcilerDeps {
  store: CommandStore;
  desired(deviceId: string): readonly DesiredEntry[];
  submit(req: SubmitRequest): Promise<unknown>;
}

/**
 * After a reconnect, a device whose first reported state differs from its desired state is
 * given the state command again (unless one is still open). Once per connection.
 */
export class Reconciler {
  readonly #log: Logger;
  readonly #deps: ReconcilerDeps;
  readonly #reconciled = new Set<string>();

  constructor(log: Logger, deps: ReconcilerDeps) {
    this.#log = log;
    this.#deps = deps;
  }

  reportedState(device: Device, state: Record<string, unknown>): void {
    if (this.#reconciled.has(device.id)) return;
    this.#reconciled.add(device.id);
    this.#reconcile(device, state).catch((err) =>
      this.#log.error({ err, deviceId: device.id }, 'reconciliation failed'),
    );
  }

  /** The device's connection ended: its next one is looked at again. */
  forget(deviceId: string): void {
    this.#reconciled.delete(deviceId);
  }

  async #reconcile(device: Device, state: Record<string, unknown>): Promise<void> {
    const open = new Set(
      (await this.#deps.store.forDevice(device.id, { status: [...OPEN_STATUSES] })).map((c) => c.name),
    );
    for (const d of this.#deps.desired(device.id)) {
      const differs = Object.entries(d.state).some(([k, v]) => Object.hasOwn(state, k) && state[k] !== v);
      if (!differs || open.has(d.command)) continue;
      this.#log.info(
        { deviceId: device.id, command: d.command },
        'reported state differs from desired; re-sending',
      );
      try {
        await this.#deps.submit({
          deviceId: device.id,
          name: d.command,
          params: d.params,
          actor: 'reconciler',
        });
      } catch (err) {
        this.#log.warn(
          { deviceId: device.id, err: (err as Error).message },
          'could not bring the device to its desired state',
        );
      }
    }
  }
}
