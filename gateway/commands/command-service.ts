import type { Adapter } from '../../adapters/adapter.ts';
import {
  type Command,
  type CommandStore,
  FINAL_STATUSES,
  newCommandId,
} from '../../device-registry/commands.ts';
import type { Device } from '../../device-registry/devices.ts';
import { sendToDevice } from '../broker.ts';
import type { GatewayContext } from '../context.ts';
import { commandEvent } from '../events/command-event.ts';
import { topics } from '../ingest/topics.ts';
import {
  CommandNotFoundError,
  CommandParamsError,
  CommandRateLimitedError,
  ConfirmRequiredError,
  NotCancellableError,
  UnknownCommandError,
} from './errors.ts';

export interface SubmitRequest {
  deviceId: string;
  name: string;
  params: unknown;
  ttlSeconds?: number;
  timeoutSeconds?: number;
  idempotencyKey?: string;
  confirm?: boolean;
  actor: string;
  bulkId?: string;
}

export interface CommandOptions {
  defaultTtlSeconds: number;
  defaultTimeoutSeconds: number;
}

const SYSTEM = 'gateway';

/**
 * The command lifecycle (docs/design.md, "Commands"): queued → sent → delivered →
 * succeeded | failed, or timed_out, expired, cancelled; persisted at every step so that a
 * restart resolves what was in flight. MQTT devices get commands once they are subscribed to
 * their command topic; adapter devices through their adapter.
 */
export class CommandService {
  readonly #ctx: GatewayContext;
  readonly #store: CommandStore;
  readonly #opts: CommandOptions;
  readonly #ready = new Set<string>();
  /**
   * Per device, the commands published and not yet acknowledged, oldest first. A client sends
   * PUBACKs in the order of the PUBLISHes [MQTT-4.6.0-2], and only the gateway publishes QoS 1
   * to a device (the ACL), so the next PUBACK is the oldest command's.
   */
  readonly #inflight = new Map<string, string[]>();
  readonly #reconciled = new Set<string>();
  readonly #timers = new Map<string, unknown>();
  readonly #adapterQueues = new Map<string, Promise<void>>();

  constructor(ctx: GatewayContext, store: CommandStore, opts: CommandOptions) {
    this.#ctx = ctx;
    this.#store = store;
    this.#opts = opts;
  }

  get store(): CommandStore {
    return this.#store;
  }

  #move(
    id: string,
    to: Command['status'],
    actor: string,
    extra?: Parameters<CommandStore['transition']>[4],
  ): Command | null {
    const c = this.#store.transition(id, to, this.#ctx.clock.now(), actor, extra);
    if (c && FINAL_STATUSES.has(to)) this.#clearTimer(id);
    if (c) this.#ctx.events.publish(commandEvent(c));
    return c;
  }

  /** Validates, applies the spec's guards, persists, and sends at once when the device is reachable. */
  submit(req: SubmitRequest): { command: Command; created: boolean } {
    const ctx = this.#ctx;
    const device = ctx.devices.require(req.deviceId);
    const spec = ctx.devices.spec(device);
    const cmdSpec = spec.commands[req.name];
    if (!cmdSpec) throw new UnknownCommandError(spec.id, req.name, Object.keys(spec.commands).join(', '));
    const parsed = cmdSpec.params.safeParse(req.params ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new CommandParamsError(
        `params${issue.path.map((p) => `.${String(p)}`).join('')}: ${issue.message}`,
      );
    }
    const params = parsed.data as Record<string, unknown>;
    if (req.idempotencyKey) {
      const existing = this.#store.byIdempotencyKey(device.id, req.idempotencyKey);
      if (existing) return { command: existing, created: false };
    }
    const now = ctx.clock.now();
    const guards = cmdSpec.guards;
    if (guards?.confirmWhen?.(params) && req.confirm !== true) {
      throw new ConfirmRequiredError(req.name, cmdSpec.description ?? 'a guarded action');
    }
    if (guards?.minIntervalSeconds) {
      const last = this.#store.lastRequestedAt(device.id, req.name);
      const waitMs = last === null ? 0 : last + guards.minIntervalSeconds * 1000 - now;
      if (waitMs > 0)
        throw new CommandRateLimitedError(req.name, guards.minIntervalSeconds, Math.ceil(waitMs / 1000));
    }
    if (cmdSpec.mode === 'state') {
      // A newer state command replaces a queued older one: only the latest desired value matters.
      for (const old of this.#store.forDevice(device.id, { status: ['queued'] })) {
        if (old.name === req.name)
          this.#move(old.id, 'cancelled', req.actor, { detail: 'superseded by a newer command' });
      }
      this.#store.setDesired(device.id, req.name, params, cmdSpec.desired?.(params as never) ?? {}, now);
    }
    const command = this.#store.create({
      id: newCommandId(),
      deviceId: device.id,
      name: req.name,
      mode: cmdSpec.mode,
      params,
      requestedBy: req.actor,
      idempotencyKey: req.idempotencyKey ?? null,
      bulkId: req.bulkId ?? null,
      createdAt: now,
      expiresAt: now + (req.ttlSeconds ?? this.#opts.defaultTtlSeconds) * 1000,
      timeoutMs: (req.timeoutSeconds ?? this.#opts.defaultTimeoutSeconds) * 1000,
    });
    if (!req.bulkId)
      ctx.audit.record(now, req.actor, 'command.submit', device.id, {
        id: command.id,
        name: req.name,
        params,
      });
    this.#scheduleExpiry(command);
    this.dispatch(device.id);
    return { command: this.#store.get(command.id)!, created: true };
  }

  cancel(id: string, actor: string): Command {
    const c = this.#store.get(id);
    if (!c) throw new CommandNotFoundError(id);
    const moved = this.#move(id, 'cancelled', actor, { detail: `cancelled by ${actor}` });
    if (!moved) throw new NotCancellableError(id, c.status);
    return moved;
  }

  get(id: string) {
    const c = this.#store.get(id);
    if (!c) throw new CommandNotFoundError(id);
    return { ...c, history: this.#store.history(id) };
  }

  #adapterFor(device: Device): Adapter | undefined {
    return this.#ctx.adapters.find((a) => a.serves(device));
  }

  /** Sends the device's queued commands in order, if it can hear them now. */
  dispatch(deviceId: string): void {
    const device = this.#ctx.devices.get(deviceId);
    if (!device?.enabled) return;
    const adapter = this.#adapterFor(device);
    if (adapter) {
      if (device.online) this.#runOnAdapter(device, adapter);
      return;
    }
    if (!this.#ready.has(deviceId)) return;
    for (const c of this.#store.forDevice(deviceId, { status: ['queued'] })) {
      if (!this.#beforeSend(c)) continue;
      const payload = Buffer.from(
        JSON.stringify({ name: c.name, params: c.params, expiresAt: new Date(c.expiresAt).toISOString() }),
      );
      const inflight = this.#inflight.get(deviceId) ?? [];
      this.#inflight.set(deviceId, inflight);
      inflight.push(c.id);
      if (!sendToDevice(this.#ctx.broker, deviceId, topics.command(deviceId, c.id), payload)) {
        this.#ctx.log.warn(
          { deviceId, commandId: c.id },
          'device went away while its command was being sent',
        );
      }
    }
  }

  /** Expired commands are never sent; the others become `sent` with their reply deadline. */
  #beforeSend(c: Command): boolean {
    if (this.#ctx.clock.now() >= c.expiresAt) {
      this.#expire(c.id);
      return false;
    }
    const sent = this.#move(c.id, 'sent', SYSTEM);
    if (!sent) return false;
    this.#setTimer(c.id, c.timeoutMs, () =>
      this.#move(c.id, 'timed_out', SYSTEM, { detail: `no reply within ${c.timeoutMs / 1000} s` }),
    );
    return true;
  }

  #runOnAdapter(device: Device, adapter: Adapter): void {
    if (this.#adapterQueues.has(device.id)) return; // already draining; it picks up new ones
    const run = async () => {
      for (;;) {
        const next = this.#store.forDevice(device.id, { status: ['queued'], limit: 1 })[0];
        if (!next || !device.online) return;
        if (!this.#beforeSend(next)) continue;
        const res = await adapter
          .execute(device, { id: next.id, name: next.name, params: next.params }, () =>
            this.#move(next.id, 'delivered', device.id),
          )
          .catch((err: Error) => ({ ok: false as const, error: err.message }));
        if (res.ok) this.#move(next.id, 'succeeded', device.id, { result: res.result ?? {} });
        else this.#move(next.id, 'failed', device.id, { error: res.error });
      }
    };
    this.#adapterQueues.set(
      device.id,
      run().finally(() => this.#adapterQueues.delete(device.id)),
    );
  }

  #scheduleExpiry(c: Command): void {
    this.#setTimer(c.id, Math.max(0, c.expiresAt - this.#ctx.clock.now()), () => this.#expire(c.id));
  }

  #expire(id: string): void {
    this.#move(id, 'expired', SYSTEM, { detail: 'TTL passed before it could be sent' });
  }

  #setTimer(id: string, ms: number, fn: () => void): void {
    this.#clearTimer(id);
    this.#timers.set(
      id,
      this.#ctx.clock.setTimeout(() => {
        this.#timers.delete(id);
        fn();
      }, ms),
    );
  }

  #clearTimer(id: string): void {
    const t = this.#timers.get(id);
    if (t !== undefined) {
      this.#ctx.clock.clearTimeout(t);
      this.#timers.delete(id);
    }
  }

  // ---- what devices say

  commandChannelReady(deviceId: string, ready: boolean): void {
    if (ready) {
      this.#ready.add(deviceId);
      this.dispatch(deviceId);
    } else {
      this.#ready.delete(deviceId);
      this.#reconciled.delete(deviceId);
      this.#inflight.delete(deviceId);
    }
  }

  /** The device's PUBACK of the command message. */
  delivered(deviceId: string): void {
    const commandId = this.#inflight.get(deviceId)?.shift();
    if (!commandId) return;
    const c = this.#store.get(commandId);
    if (c?.deviceId === deviceId && c.status === 'sent') this.#move(commandId, 'delivered', deviceId);
  }

  /** `{"ok":true,"result":{…}}` or `{"ok":false,"error":"…"}` on …/commands/{id}/reply. */
  reply(deviceId: string, commandId: string, payload: Buffer): void {
    const c = this.#store.get(commandId);
    if (!c || c.deviceId !== deviceId) {
      this.#ctx.log.warn({ deviceId, commandId }, 'reply to an unknown command');
      return;
    }
    let body: { ok?: unknown; result?: unknown; error?: unknown };
    try {
      body = JSON.parse(payload.toString('utf8'));
    } catch {
      body = { ok: false, error: `unreadable reply: ${payload.toString('utf8').slice(0, 200)}` };
    }
    const moved =
      body.ok === true
        ? this.#move(commandId, 'succeeded', deviceId, {
            result: (body.result as Record<string, unknown>) ?? {},
          })
        : this.#move(commandId, 'failed', deviceId, {
            error: String(body.error ?? 'device reported failure'),
          });
    if (!moved)
      this.#store.note(
        commandId,
        this.#ctx.clock.now(),
        deviceId,
        `late reply: ${payload.toString('utf8').slice(0, 500)}`,
      );
  }

  /** After a reconnect, a device whose reported state differs from the desired one is brought back. */
  reportedState(device: Device, state: Record<string, unknown>): void {
    if (this.#reconciled.has(device.id)) return;
    this.#reconciled.add(device.id);
    const open = new Set(
      this.#store.forDevice(device.id, { status: ['queued', 'sent', 'delivered'] }).map((c) => c.name),
    );
    for (const d of this.#store.desired(device.id)) {
      const differs = Object.entries(d.state).some(([k, v]) => k in state && state[k] !== v);
      if (!differs || open.has(d.command)) continue;
      this.#ctx.log.info(
        { deviceId: device.id, command: d.command },
        'reported state differs from desired; re-sending',
      );
      try {
        this.submit({ deviceId: device.id, name: d.command, params: d.params, actor: 'reconciler' });
      } catch (err) {
        this.#ctx.log.warn(
          { deviceId: device.id, err: (err as Error).message },
          'could not bring the device to its desired state',
        );
      }
    }
  }

  desiredView(deviceId: string): Record<string, unknown> | null {
    const entries = this.#store.desired(deviceId);
    if (entries.length === 0) return null;
    const state = Object.assign({}, ...entries.sort((a, b) => a.updatedAt - b.updatedAt).map((e) => e.state));
    return { ...state, version: entries.reduce((n, e) => n + e.version, 0) };
  }

  /** After a restart: queued ones wait again; ones in flight get the rest of their deadline. */
  recover(): void {
    const now = this.#ctx.clock.now();
    for (const c of this.#store.open()) {
      if (c.status === 'queued') {
        this.#scheduleExpiry(c);
        continue;
      }
      const deadline = (c.sentAt ?? c.updatedAt) + c.timeoutMs;
      const timeOut = () =>
        this.#move(c.id, 'timed_out', SYSTEM, {
          detail: 'no reply before the deadline (the gateway restarted meanwhile)',
        });
      if (deadline <= now) timeOut();
      else this.#setTimer(c.id, deadline - now, timeOut);
    }
  }

  stop(): void {
    for (const t of this.#timers.values()) this.#ctx.clock.clearTimeout(t);
    this.#timers.clear();
  }
}
