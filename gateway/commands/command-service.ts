import type { Adapter } from '../../adapters/adapter.ts';
import {
  type Command,
  type CommandStore,
  FINAL_STATUSES,
  newCommandId,
} from '../../device-registry/commands.ts';
import type { Device } from '../../device-registry/devices.ts';
import { findCommand } from '../../firmware-specs/define-device.ts';
import type { GatewayContext } from '../context.ts';
import { commandEvent } from '../events/command-event.ts';
import { topics } from '../ingest/topics.ts';
import { checkGuards, clip, resolveCommand } from './command-guards.ts';
import { parseReply, RAW_REPLY_KEPT_CHARS } from './command-reply.ts';
import { CommandNotFoundError, NotCancellableError } from './errors.ts';

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
  /** COMMAND_REPLY_MAX_BYTES: a longer reply is kept as malformed, not parsed. */
  replyMaxBytes?: number;
}

/** A reply carries a small result (a few readings or settings); 16 KiB leaves ample room. */
export const DEFAULT_REPLY_MAX_BYTES = 16 * 1024;

const SYSTEM = 'gateway';
/** MQTT-3.8.4-6: a QoS 0 subscriber gets QoS 0, so no PUBACK; the reply or the timeout ends it. */
const QOS0_DETAIL = 'sent at QoS 0 (the device subscribed at QoS 0): no PUBACK, so never `delivered`';

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
    const at = this.#ctx.clock.now();
    const c = this.#store.transition(id, to, at, actor, extra);
    if (c && FINAL_STATUSES.has(to)) {
      this.#clearTimer(id);
      this.#ctx.metrics.commandFinished(c, this.#ctx.devices.get(c.deviceId)?.family ?? 'unknown', at);
    }
    if (c) this.#ctx.events.publish(commandEvent(c));
    return c;
  }

  /** Validates, applies the spec's guards, persists, and sends at once when the device is reachable. */
  submit(req: SubmitRequest): { command: Command; created: boolean } {
    const ctx = this.#ctx;
    const device = ctx.devices.require(req.deviceId);
    const { cmdSpec, params } = resolveCommand(ctx.devices, device, req.name, req.params);
    if (req.idempotencyKey) {
      const existing = this.#store.byIdempotencyKey(device.id, req.idempotencyKey);
      if (existing) return { command: existing, created: false };
    }
    const now = ctx.clock.now();
    checkGuards(
      cmdSpec,
      { name: req.name, params, confirm: req.confirm },
      () => this.#store.lastRequestedAt(device.id, req.name),
      now,
    );
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
    // Not before the device has subscribed to its commands: a clean session would lose them.
    const qos = this.#ctx.link.commandQos(deviceId);
    if (qos === null) return;
    const detail = qos === 0 ? QOS0_DETAIL : undefined;
    for (const c of this.#store.forDevice(deviceId, { status: ['queued'] })) {
      if (!this.#beforeSend(c, detail)) continue;
      const payload = Buffer.from(
        JSON.stringify({ name: c.name, params: c.params, expiresAt: new Date(c.expiresAt).toISOString() }),
      );
      // `delivered` comes from the PUBACK of this very packet, matched by its packet id.
      const sent = this.#ctx.link.send(deviceId, topics.command(deviceId, c.id), payload, () =>
        this.#move(c.id, 'delivered', deviceId),
      );
      if (!sent)
        this.#ctx.log.warn(
          { deviceId, commandId: c.id },
          'device went away while its command was being sent',
        );
    }
  }

  /** Expired commands are never sent; the others become `sent` with their reply deadline. */
  #beforeSend(c: Command, detail?: string): boolean {
    if (this.#ctx.clock.now() >= c.expiresAt) {
      this.#expire(c.id);
      return false;
    }
    const sent = this.#move(c.id, 'sent', SYSTEM, { detail });
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
        try {
          fn();
        } catch (err) {
          this.#ctx.log.error({ err, commandId: id }, 'command timer failed');
        }
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

  /** The device's live connection can hear its commands now, or no longer (DeviceLink). */
  commandChannelReady(deviceId: string, ready: boolean): void {
    if (ready) this.dispatch(deviceId);
    else this.#reconciled.delete(deviceId);
  }

  /**
   * The device's answer on …/commands/{id}/reply. An unreadable answer is still an answer: the
   * command ends `failed` ("malformed reply: …") with the raw text, cut short, in its history.
   * Called from the group committer's callback: it must not throw.
   */
  reply(deviceId: string, commandId: string, payload: Buffer): void {
    const counted = this.#ctx.metrics.commandReplies;
    try {
      const c = this.#store.get(commandId);
      if (!c || c.deviceId !== deviceId) {
        counted.inc({ outcome: 'unknown' });
        this.#ctx.log.warn({ deviceId, commandId: clip(commandId) }, 'reply to an unknown command');
        return;
      }
      const r = parseReply(payload, this.#opts.replyMaxBytes ?? DEFAULT_REPLY_MAX_BYTES);
      const refused = r.kind === 'succeeded' ? this.#verifyResult(c, r.result) : undefined;
      const moved = refused
        ? this.#move(commandId, 'failed', deviceId, { error: refused })
        : r.kind === 'succeeded'
          ? this.#move(commandId, 'succeeded', deviceId, { result: r.result })
          : r.kind === 'failed'
            ? this.#move(commandId, 'failed', deviceId, { error: r.error })
            : this.#move(commandId, 'failed', deviceId, {
                error: `malformed reply: ${r.reason}`,
                detail: `malformed reply (${r.reason}): ${r.raw}`,
              });
      counted.inc({ outcome: moved ? (refused ? 'failed' : r.kind) : 'late' });
      if (!moved) {
        const raw = payload.toString('utf8', 0, Math.min(payload.length, RAW_REPLY_KEPT_CHARS * 4));
        this.#store.note(
          commandId,
          this.#ctx.clock.now(),
          deviceId,
          `late reply: ${raw.slice(0, RAW_REPLY_KEPT_CHARS)}`,
        );
      }
    } catch (err) {
      this.#ctx.log.error({ err, deviceId, commandId: clip(commandId) }, 'command reply not recorded');
    }
  }

  /** The spec's own check of a successful result (an OTA update must come back on the new version). */
  #verifyResult(c: Command, result: Record<string, unknown>): string | undefined {
    const device = this.#ctx.devices.get(c.deviceId);
    const spec = device && this.#ctx.devices.spec(device);
    return spec && findCommand(spec, c.name)?.verifyResult?.(c.params, result);
  }

  /** After a reconnect, a device whose reported state differs from the desired one is brought back. */
  reportedState(device: Device, state: Record<string, unknown>): void {
    if (this.#reconciled.has(device.id)) return;
    this.#reconciled.add(device.id);
    try {
      this.#reconcile(device, state);
    } catch (err) {
      this.#ctx.log.error({ err, deviceId: device.id }, 'reconciliation failed');
    }
  }

  #reconcile(device: Device, state: Record<string, unknown>): void {
    const open = new Set(
      this.#store.forDevice(device.id, { status: ['queued', 'sent', 'delivered'] }).map((c) => c.name),
    );
    for (const d of this.#store.desired(device.id)) {
      const differs = Object.entries(d.state).some(([k, v]) => Object.hasOwn(state, k) && state[k] !== v);
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
