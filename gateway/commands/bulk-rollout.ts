import { randomBytes } from 'node:crypto';
import {
  type BulkRecord,
  COMMAND_STATUS,
  type CommandStatus,
  FINAL_STATUSES,
} from '../../device-registry/commands.ts';
import type { GatewayContext } from '../context.ts';
import { type BulkSelector, selectForBulk } from './bulk-selection.ts';
import type { CommandService } from './command-service.ts';
import { BulkNotFoundError, NoDevicesSelectedError } from './errors.ts';

export interface BulkRequest {
  selector: BulkSelector;
  name: string;
  params: unknown;
  ratePerSecond?: number;
  ttlSeconds?: number;
  timeoutSeconds?: number;
  confirm?: boolean;
  actor: string;
}

const TICK_MS = 50;
export const DEFAULT_BULK_RATE = 500;

export type BulkStatus = Awaited<ReturnType<BulkRollouts['status']>>;

interface Rollout {
  record: BulkRecord;
  /** Devices still to be given the command, in order. */
  queue: string[];
  next: number;
  refused: Array<{ deviceId: string; reason: string }>;
  timer: unknown;
  request: BulkRequest;
  /** Commands the rate allows and not yet sent: fractions carry over, so 1/s or 30/s hold exactly. */
  credit: number;
  /** Devices of shares being submitted, not yet given their command. */
  inFlight: number;
}

/**
 * Group commands: a selector picks the devices, the commands go out at a bounded rate (so a
 * district's 5,000 lamps do not all switch in one millisecond, nor flood the broker), and the
 * outcome is counted per status and per device.
 */
export class BulkRollouts {
  readonly #ctx: GatewayContext;
  readonly #commands: CommandService;
  readonly #active = new Map<string, Rollout>();
  #stopped = false;

  constructor(ctx: GatewayContext, commands: CommandService) {
    this.#ctx = ctx;
    this.#commands = commands;
  }

  async start(req: BulkRequest): Promise<BulkStatus> {
    const { devices, clock } = this.#ctx;
    const { matched, deviceIds, skipped } = selectForBulk(devices, req.selector, req);
    if (matched === 0) throw new NoDevicesSelectedError('the selector matches no enabled device');
    if (deviceIds.length === 0)
      throw new NoDevicesSelectedError(`${skipped.length} selected, none can take it (${skipped[0].reason})`);
    const record: BulkRecord = {
      id: `bulk_${Date.now().toString(36)}${randomBytes(4).toString('hex')}`,
      name: req.name,
      params: (req.params ?? {}) as Record<string, unknown>,
      selector: req.selector,
      ratePerSecond: req.ratePerSecond ?? DEFAULT_BULK_RATE,
      requestedBy: req.actor,
      createdAt: clock.now(),
      deviceIds,
      skipped,
      options: { ttlSeconds: req.ttlSeconds, timeoutSeconds: req.timeoutSeconds, confirm: req.confirm },
      owner: this.#ctx.cluster.nodeId,
      finishedAt: null,
    };
    await this.#commands.store.createBulk(record);
    this.#ctx.audit.record(record.createdAt, req.actor, 'command.bulk', record.id, {
      name: req.name,
      params: record.params,
      selector: req.selector,
      devices: deviceIds.length,
    });
    await this.#run(record, deviceIds, req);
    return this.status(record.id);
  }

  async #run(record: BulkRecord, queue: string[], request: BulkRequest): Promise<void> {
    const rollout: Rollout = {
      record,
      queue,
      next: 0,
      refused: [],
      timer: null,
      request,
      credit: 1,
      inFlight: 0,
    };
    this.#active.set(record.id, rollout);
    await this.#tick(rollout);
  }

  /**
   * After a restart: this node's roll-outs that a stop interrupted go on with the devices not yet
   * given the command (another node's are its own to resume).
   */
  async resume(): Promise<number> {
    const store = this.#commands.store;
    const unfinished = await store.unfinishedBulks(this.#ctx.cluster.nodeId);
    for (const record of unfinished) {
      const done = new Set((await store.bulkCommands(record.id)).map((c) => c.deviceId));
      const queue = record.deviceIds.filter((id) => !done.has(id));
      this.#ctx.log.info(
        { bulkId: record.id, remaining: queue.length },
        'resuming an interrupted bulk roll-out',
      );
      await this.#run(record, queue, {
        ...record.options,
        selector: record.selector,
        name: record.name,
        params: record.params,
        ratePerSecond: record.ratePerSecond,
        actor: record.requestedBy,
      });
    }
    return unfinished.length;
  }

  /**
   * One tick's share of devices. The next tick is scheduled before this share is submitted, so
   * the pace is the clock's, whatever the store's latency; the roll-out is finished once the
   * last share has been submitted.
   */
  async #tick(r: Rollout): Promise<void> {
    if (this.#stopped) return;
    // A slow rate ticks less often (1/s: once a second); a fast one sends several per 50 ms tick.
    const interval = Math.max(TICK_MS, 1000 / r.record.ratePerSecond);
    const end = Math.min(r.next + Math.floor(r.credit), r.queue.length);
    r.credit -= end - r.next;
    const share = r.queue.slice(r.next, end);
    r.next = end;
    r.inFlight += share.length;
    if (r.next < r.queue.length)
      r.timer = this.#ctx.clock.setTimeout(() => {
        r.credit += (r.record.ratePerSecond * interval) / 1000;
        this.#tick(r).catch((err) =>
          this.#ctx.log.error({ err, bulkId: r.record.id }, 'bulk roll-out stalled; it resumes on restart'),
        );
      }, interval);
    for (const deviceId of share) {
      if (this.#stopped) return; // the rest is resumed on the next start
      try {
        await this.#commands.submit({
          deviceId,
          name: r.request.name,
          params: r.request.params,
          ttlSeconds: r.request.ttlSeconds,
          timeoutSeconds: r.request.timeoutSeconds,
          confirm: r.request.confirm,
          actor: r.request.actor,
          bulkId: r.record.id,
        });
      } catch (err) {
        r.refused.push({ deviceId, reason: (err as Error).message });
      }
      r.inFlight--;
    }
    if (this.#stopped || r.next < r.queue.length || r.inFlight > 0) return;
    // Every device has its command (or its refusal, now persisted): the store answers from here.
    await this.#commands.store.finishBulk(r.record.id, this.#ctx.clock.now(), r.refused);
    this.#active.delete(r.record.id);
  }

  /** From the store on any node; the node running the roll-out adds what it has not stored yet. */
  async status(id: string) {
    const rollout = this.#active.get(id);
    const record = rollout?.record ?? (await this.#commands.store.bulk(id));
    if (!record) throw new BulkNotFoundError(id);
    const commands = await this.#commands.store.bulkCommands(id);
    const counts = Object.fromEntries(Object.keys(COMMAND_STATUS).map((s) => [s, 0])) as Record<
      CommandStatus,
      number
    >;
    for (const c of commands) counts[c.status]++;
    const refused = rollout?.refused ?? []; // not yet persisted while the roll-out runs
    const final = commands.filter((c) => FINAL_STATUSES.has(c.status)).length;
    const total = record.deviceIds.length;
    // Another node's roll-out still running: the devices not yet given a command (refusals
    // are stored when it finishes).
    const toSubmit = rollout
      ? rollout.queue.length - rollout.next + rollout.inFlight
      : record.finishedAt === null
        ? Math.max(0, total - commands.length)
        : 0;
    return {
      id: record.id,
      name: record.name,
      params: record.params,
      selector: record.selector,
      ratePerSecond: record.ratePerSecond,
      requestedBy: record.requestedBy,
      createdAt: new Date(record.createdAt).toISOString(),
      total,
      submitted: commands.length,
      counts,
      done: toSubmit === 0 && final === commands.length,
      // A loop, not Math.max(...): 100,000 arguments overflow the stack.
      lastUpdateAt: commands.length
        ? new Date(commands.reduce((t, c) => Math.max(t, c.updatedAt), 0)).toISOString()
        : null,
      skipped: [...record.skipped, ...refused],
      devices: commands.map((c) => ({
        deviceId: c.deviceId,
        commandId: c.id,
        status: c.status,
        error: c.error,
      })),
    };
  }

  stop(): void {
    this.#stopped = true;
    for (const r of this.#active.values()) if (r.timer !== null) this.#ctx.clock.clearTimeout(r.timer);
  }
}
