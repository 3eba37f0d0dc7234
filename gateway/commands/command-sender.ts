import type { Adapter } from '../../adapters/adapter.ts';
import type {
  Command,
  CommandStatus,
  CommandStore,
  TransitionExtra,
} from '../../device-registry/commands.ts';
import type { Device } from '../../device-registry/devices.ts';
import type { GatewayContext } from '../context.ts';
import { topics } from '../ingest/topics.ts';

/** MQTT-3.8.4-6: a QoS 0 subscriber gets QoS 0, so no PUBACK; the reply or the timeout ends it. */
const QOS0_DETAIL = 'sent at QoS 0 (the device subscribed at QoS 0): no PUBACK, so never `delivered`';

interface SenderDeps {
  store: CommandStore;
  /** Moves the command to `sent` (conditional on `queued`) with its reply deadline; false: do not send. */
  beforeSend(c: Command, detail?: string): Promise<boolean>;
  move(id: string, to: CommandStatus, actor: string, extra?: TransitionExtra): Promise<Command | null>;
}

/**
 * Sends a device's queued commands, in order, on the connection this node holds: MQTT devices
 * once they are subscribed to their command topic, adapter devices through their adapter.
 */
export class CommandSender {
  readonly #ctx: Pick<GatewayContext, 'devices' | 'adapters' | 'link' | 'log'>;
  readonly #deps: SenderDeps;
  readonly #adapterQueues = new Map<string, Promise<void>>();
  readonly #dispatching = new Map<string, { again: boolean; done: Promise<void> }>();

  constructor(ctx: Pick<GatewayContext, 'devices' | 'adapters' | 'link' | 'log'>, deps: SenderDeps) {
    this.#ctx = ctx;
    this.#deps = deps;
  }

  /**
   * One pass at a time per device; a call during a pass asks for another, and resolves once that
   * one is done. Never rejects.
   */
  dispatch(deviceId: string): Promise<void> {
    const running = this.#dispatching.get(deviceId);
    if (running) {
      running.again = true;
      return running.done;
    }
    const run = { again: true, done: Promise.resolve() };
    run.done = (async () => {
      try {
        while (run.again) {
          run.again = false;
          await this.#dispatchOnce(deviceId);
        }
      } catch (err) {
        this.#ctx.log.error({ err, deviceId }, 'commands not sent');
      } finally {
        this.#dispatching.delete(deviceId);
      }
    })();
    this.#dispatching.set(deviceId, run);
    return run.done;
  }

  /** This node holds the device: its live MQTT connection, or an adapter here polling it. */
  holds(deviceId: string): boolean {
    return this.#ctx.link.isConnected(deviceId) || this.#ctx.adapters.some((a) => a.holds(deviceId));
  }

  #delivered(id: string, deviceId: string): void {
    void this.#deps
      .move(id, 'delivered', deviceId)
      .catch((err) => this.#ctx.log.error({ err, commandId: id }, 'delivery not recorded'));
  }

  async #dispatchOnce(deviceId: string): Promise<void> {
    const device = this.#ctx.devices.get(deviceId);
    if (!device?.enabled) return;
    const adapter = this.#ctx.adapters.find((a) => a.serves(device));
    if (adapter) {
      // Polled by another node of the cluster: that node sends it.
      if (device.online && adapter.holds(deviceId)) this.#runOnAdapter(device, adapter);
      return;
    }
    // Not before the device has subscribed to its commands: a clean session would lose them.
    if (this.#ctx.link.commandQos(deviceId) === null) return;
    for (const c of await this.#deps.store.forDevice(deviceId, { status: ['queued'] })) {
      const qos = this.#ctx.link.commandQos(deviceId);
      if (qos === null) return; // gone meanwhile: the next connection sends the rest
      if (!(await this.#deps.beforeSend(c, qos === 0 ? QOS0_DETAIL : undefined))) continue;
      const payload = Buffer.from(
        JSON.stringify({ name: c.name, params: c.params, expiresAt: new Date(c.expiresAt).toISOString() }),
      );
      // `delivered` comes from the PUBACK of this very packet, matched by its packet id.
      const sent = this.#ctx.link.send(deviceId, topics.command(deviceId, c.id), payload, () =>
        this.#delivered(c.id, deviceId),
      );
      if (!sent)
        this.#ctx.log.warn(
          { deviceId, commandId: c.id },
          'device went away while its command was being sent',
        );
    }
  }

  #runOnAdapter(device: Device, adapter: Adapter): void {
    if (this.#adapterQueues.has(device.id)) return; // already draining; it picks up new ones
    const { store, beforeSend, move } = this.#deps;
    const run = async () => {
      for (;;) {
        const next = (await store.forDevice(device.id, { status: ['queued'], limit: 1 }))[0];
        if (!next || !device.online) return;
        if (!(await beforeSend(next))) continue;
        const res = await adapter
          .execute(device, { id: next.id, name: next.name, params: next.params }, () =>
            this.#delivered(next.id, device.id),
          )
          .catch((err: Error) => ({ ok: false as const, error: err.message }));
        if (res.ok) await move(next.id, 'succeeded', device.id, { result: res.result ?? {} });
        else await move(next.id, 'failed', device.id, { error: res.error });
      }
    };
    this.#adapterQueues.set(
      device.id,
      run()
        .catch((err) => this.#ctx.log.error({ err, deviceId: device.id }, 'adapter commands not sent'))
        .finally(() => this.#adapterQueues.delete(device.id)),
    );
  }
}
