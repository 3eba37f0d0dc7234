import {
  type Command,
  type CommandStore,
  FINAL_STATUSES,
  newCommandId,
  type TransitionExtra,
} from '../../device-registry/commands.ts';
import type { Device } from '../../device-registry/devices.ts';
import { findCommand } from '../../firmware-specs/define-device.ts';
import type { GatewayContext } from '../context.ts';
import { commandEvent } from '../events/command-event.ts';
import { markRelayed } from '../events/relayed-events.ts';
import { CommandCache } from './command-cache.ts';
import { DeadlineSweep, followOtherNodes } from './command-cluster.ts';
import { checkGuards, clip, resolveCommand } from './command-guards.ts';
import { parseReply, RAW_REPLY_KEPT_CHARS } from './command-reply.ts';
import { CommandSender } from './command-sender.ts';
import { CommandNotFoundError, NotCancellableError } from './errors.ts';
import { Reconciler } from './reconciler.ts';

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
  /**
   * How often this node looks for commands past their deadline that no timer of its own covers
   * (a node that sent them died): 0 turns it off (single-process mode, where timers cover all).
   */
  sweepMs?: number;
}

/** A reply carries a small result (a few readings or settings); 16 KiB leaves ample room. */
export const DEFAULT_REPLY_MAX_BYTES = 16 * 1024;

const SYSTEM = 'gateway';
const EXPIRED_DETAIL = 'TTL passed before it could be sent';
const timeoutDetail = (c: Command) => `no reply within ${c.timeoutMs / 1000} s`;

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
  readonly #reconciler: Reconciler;
  readonly #timers = new Map<string, unknown>();
  readonly #sender: CommandSender;
  readonly #cache: CommandCache;
  readonly #sweep: DeadlineSweep;

  constructor(ctx: GatewayContext, store: CommandStore, opts: CommandOptions) {
    this.#ctx = ctx;
    this.#store = store;
    this.#opts = opts;
    this.#cache = new CommandCache(store, ctx.log, ctx.clock);
    this.#sender = new CommandSender(ctx, {
      store,
      beforeSend: (c, detail) => this.#beforeSend(c, detail),
      move: (id, to, actor, extra) => this.#move(id, to, actor, extra),
    });
    this.#reconciler = new Reconciler(ctx.log, {
      store,
      desired: (deviceId) => this.#cache.desired(deviceId),
      submit: (req) => this.submit(req),
    });
    this.#sweep = new DeadlineSweep(ctx, {
      store,
      everyMs: opts.sweepMs ?? 0,
      expire: (c) => this.#expire(c.id),
      timeOut: (c) => this.#move(c.id, 'timed_out', SYSTEM, { detail: timeoutDetail(c) }),
      holds: (deviceId) => this.#sender.holds(deviceId),
      dispatch: (deviceId) => this.dispatch(deviceId),
    });
  }

  get store(): CommandStore {
    return this.#store;
  }

  async #move(
    id: string,
    to: Command['status'],
    actor: string,
    extra?: TransitionExtra,
  ): Promise<Command | null> {
    const at = this.#ctx.clock.now();
    const c = await this.#store.transition(id, to, at, actor, extra);
    if (!c) return null;
    this.#moved(c);
    if (FINAL_STATUSES.has(to))
      this.#ctx.metrics.commandFinished(c, this.#ctx.devices.get(c.deviceId)?.family ?? 'unknown', at);
    this.#ctx.cluster.publish('command.status', { id: c.id, deviceId: c.deviceId, status: c.status });
    return c;
  }

  /**
   * A command moved, here or on another node: timers, the cache and the live views follow. A move
   * made on another node is shown as relayed: that node queued its webhooks and recorded its effects.
   */
  #moved(c: Command, relayed = false): void {
    if (FINAL_STATUSES.has(c.status)) this.#clearTimer(c.id);
    this.#cache.putCommand(c);
    const event = commandEvent(c);
    this.#ctx.events.publish(relayed ? markRelayed(event) : event);
  }

  /**
   * Validates, applies the spec's guards, persists, and sends at once when the device is
   * reachable. The idempotency key, the guards and the superseding of an older state command
   * are checked in the store's transaction, so they hold across the nodes of a cluster.
   */
  async submit(req: SubmitRequest): Promise<{ command: Command; created: boolean }> {
    const ctx = this.#ctx;
    const device = ctx.devices.require(req.deviceId);
    const { cmdSpec, params } = resolveCommand(ctx.devices, device, req.name, req.params);
    const now = ctx.clock.now();
    const { command, created, superseded, desired } = await this.#store.create(
      {
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
      },
      {
        guard: (last) =>
          checkGuards(cmdSpec, { name: req.name, params, confirm: req.confirm }, () => last, now),
        state:
          cmdSpec.mode === 'state'
            ? { actor: req.actor, desired: cmdSpec.desired?.(params as never) ?? {} }
            : undefined,
      },
    );
    if (!created) return { command, created };
    for (const old of superseded) {
      this.#moved(old);
      ctx.cluster.publish('command.status', { id: old.id, deviceId: old.deviceId, status: old.status });
    }
    if (desired) {
      this.#cache.putDesired(device.id, desired);
      ctx.cluster.publish('desired.changed', { deviceId: device.id });
    }
    this.#cache.putCommand(command);
    if (!req.bulkId)
      ctx.audit.record(now, req.actor, 'command.submit', device.id, {
        id: command.id,
        name: req.name,
        params,
      });
    // In a cluster the sweep expires it, on whichever node is up by then.
    if (!this.#opts.sweepMs) this.#scheduleExpiry(command);
    ctx.cluster.publish('commands.queued', { deviceId: device.id });
    await this.dispatch(device.id);
    return { command: (await this.#store.get(command.id))!, created: true };
  }

  async cancel(id: string, actor: string): Promise<Command> {
    const moved = await this.#move(id, 'cancelled', actor, { detail: `cancelled by ${actor}` });
    if (moved) return moved;
    // Not moved: read once to say why (unknown, or already past where it can be cancelled).
    const c = await this.#store.get(id);
    if (!c) throw new CommandNotFoundError(id);
    throw new NotCancellableError(id, c.status);
  }

  async get(id: string) {
    const c = await this.#store.get(id);
    if (!c) throw new CommandNotFoundError(id);
    return { ...c, history: await this.#store.history(id) };
  }

  /** Sends the device's queued commands in order, if it can hear them now (CommandSender). */
  dispatch(deviceId: string): Promise<void> {
    return this.#sender.dispatch(deviceId);
  }

  /**
   * Expired commands are never sent; the others become `sent` with their reply deadline. The
   * move is conditional on `queued`: of two nodes holding the device, one sends.
   */
  async #beforeSend(c: Command, detail?: string): Promise<boolean> {
    if (this.#ctx.clock.now() >= c.expiresAt) {
      await this.#expire(c.id);
      return false;
    }
    const sent = await this.#move(c.id, 'sent', SYSTEM, { detail });
    if (!sent) return false;
    this.#setTimer(c.id, c.timeoutMs, () =>
      this.#move(c.id, 'timed_out', SYSTEM, { detail: timeoutDetail(c) }),
    );
    return true;
  }

  #scheduleExpiry(c: Command): void {
    this.#setTimer(c.id, Math.max(0, c.expiresAt - this.#ctx.clock.now()), () => this.#expire(c.id));
  }

  #expire(id: string): Promise<Command | null> {
    return this.#move(id, 'expired', SYSTEM, { detail: EXPIRED_DETAIL });
  }

  #setTimer(id: string, ms: number, fn: () => Promise<unknown>): void {
    this.#clearTimer(id);
    this.#timers.set(
      id,
      this.#ctx.clock.setTimeout(() => {
        this.#timers.delete(id);
        fn().catch((err) => this.#ctx.log.error({ err, commandId: id }, 'command timer failed'));
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
    if (ready) {
      void this.#cache.warm(deviceId);
      void this.dispatch(deviceId);
    } else this.#reconciler.forget(deviceId);
  }

  /**
   * The PUBACK of a command another node sent before the device's session moved here (the link
   * matched it by the packet the shared session store kept): `sent` becomes `delivered`.
   * Never rejects.
   */
  async resumedAck(deviceId: string, commandId: string): Promise<void> {
    try {
      const c = await this.#store.get(commandId);
      if (c?.deviceId !== deviceId || c.status !== 'sent') return;
      await this.#move(commandId, 'delivered', deviceId, {
        detail: `acknowledged on node ${this.#ctx.cluster.nodeId}, where the session moved`,
      });
    } catch (err) {
      this.#ctx.log.error({ err, deviceId, commandId: clip(commandId) }, 'delivery not recorded');
    }
  }

  /**
   * The device's answer on …/commands/{id}/reply. An unreadable answer is still an answer: the
   * command ends `failed` ("malformed reply: …") with the raw text, cut short, in its history.
   * Called from the group committer's callback: it must not throw.
   */
  async reply(deviceId: string, commandId: string, payload: Buffer): Promise<void> {
    const counted = this.#ctx.metrics.commandReplies;
    try {
      const c = await this.#store.get(commandId);
      if (!c || c.deviceId !== deviceId) {
        counted.inc({ outcome: 'unknown' });
        this.#ctx.log.warn({ deviceId, commandId: clip(commandId) }, 'reply to an unknown command');
        return;
      }
      const r = parseReply(payload, this.#opts.replyMaxBytes ?? DEFAULT_REPLY_MAX_BYTES);
      const refused = r.kind === 'succeeded' ? this.#verifyResult(c, r.result) : undefined;
      const moved = await (refused
        ? this.#move(commandId, 'failed', deviceId, { error: refused })
        : r.kind === 'succeeded'
          ? this.#move(commandId, 'succeeded', deviceId, { result: r.result })
          : r.kind === 'failed'
            ? this.#move(commandId, 'failed', deviceId, { error: r.error })
            : this.#move(commandId, 'failed', deviceId, {
                error: `malformed reply: ${r.reason}`,
                detail: `malformed reply (${r.reason}): ${r.raw}`,
              }));
      counted.inc({ outcome: moved ? (refused ? 'failed' : r.kind) : 'late' });
      if (!moved) {
        const raw = payload.toString('utf8', 0, Math.min(payload.length, RAW_REPLY_KEPT_CHARS * 4));
        await this.#store.note(
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
    this.#reconciler.reportedState(device, state);
  }

  /** The device's desired state, from this node's memory (the alarm rules ask it per reading). */
  desiredView(deviceId: string): Readonly<Record<string, unknown>> | null {
    return this.#cache.view(deviceId);
  }

  /** The device's recent commands, newest first, from this node's memory (at most RECENT_PER_DEVICE). */
  recentCommands(deviceId: string): readonly Command[] {
    return this.#cache.recent(deviceId);
  }

  /**
   * Loads the desired states, listens to the other nodes, and resolves what was in flight: in a
   * single process with timers for the rest of each deadline, in a cluster by the sweep (the
   * node that sent a command may be gone; any node finalizes it).
   */
  async start(): Promise<void> {
    await this.#cache.load();
    followOtherNodes(this.#ctx, {
      store: this.#store,
      holds: (deviceId) => this.#sender.holds(deviceId),
      cache: this.#cache,
      moved: (c) => this.#moved(c, true),
      dispatch: (deviceId) => this.dispatch(deviceId),
    });
    if (this.#opts.sweepMs) this.#sweep.start();
    else await this.#recover();
  }

  /** After a restart: queued ones wait again; ones in flight get the rest of their deadline. */
  async #recover(): Promise<void> {
    const now = this.#ctx.clock.now();
    for (const c of await this.#store.open()) {
      if (c.status === 'queued') {
        this.#scheduleExpiry(c);
        continue;
      }
      const deadline = (c.sentAt ?? c.updatedAt) + c.timeoutMs;
      const timeOut = () =>
        this.#move(c.id, 'timed_out', SYSTEM, {
          detail: 'no reply before the deadline (the gateway restarted meanwhile)',
        });
      if (deadline <= now) await timeOut();
      else this.#setTimer(c.id, deadline - now, timeOut);
    }
  }

  /** Moves what is past its deadline now (the cluster's periodic sweep); how many this node moved. */
  sweep(): Promise<number> {
    return this.#sweep.sweep();
  }

  stop(): void {
    this.#sweep.stop();
    for (const t of this.#timers.values()) this.#ctx.clock.clearTimeout(t);
    this.#timers.clear();
  }
}
