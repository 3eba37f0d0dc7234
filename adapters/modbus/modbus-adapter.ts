import type { Device } from '../../device-registry/devices.ts';
import { findCommand, type ModbusMap, type ModelSpec } from '../../firmware-specs/define-device.ts';
import type { Adapter, AdapterCommand, AdapterContext, AdapterResult } from '../adapter.ts';
import { isModbusException, ModbusConnection } from './connection.ts';
import {
  MbErrBadParams,
  MbErrConnectionLost,
  MbErrNotConnected,
  MbErrNotServed,
  MbErrUnknownCommand,
} from './errors.ts';
import { extractValues, planReads, type ReadRequest, type ReadResult } from './read-planner.ts';
import { readTable, writeAndConfirm } from './register-write.ts';

export interface ModbusAdapterOptions {
  /** Overrides every model's pollIntervalMs (tests, demos). */
  pollIntervalMs?: number;
  /** Per request; Modbus TCP answers in milliseconds, an RS-485 gateway in tens to hundreds. */
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Reconnect backoff of a connection. */
  reconnect?: { initialMs: number; maxMs: number };
  /** Longest wait between polls of a failing device. */
  maxPollBackoffMs?: number;
  /** Consecutive failed polls after which a device shows offline (a lost connection: at once). */
  offlineAfterFailures?: number;
}

export interface ModbusAdapterStats {
  polls: number;
  failedPolls: number;
  exceptions: number;
  timeouts: number;
  writes: number;
}

type Values = Record<string, number | boolean>;
type PollOutcome = { ok: true; values: Values } | { ok: false; error: Error };

interface Polled {
  device: Device;
  spec: ModelSpec;
  map: ModbusMap;
  plan: ReadRequest[];
  conn: ModbusConnection;
  topic: string;
  intervalMs: number;
  timer: unknown;
  failures: number;
  /** The last poll failed for want of a connection (not a timeout or exception of this unit). */
  linkDown: boolean;
  running: Promise<PollOutcome> | null;
}

/** Modbus exceptions 10 and 11: the gateway answered for a unit it could not reach. */
const GATEWAY_EXCEPTIONS = new Set([10, 11]);
const isLinkError = (err: Error) => err instanceof MbErrConnectionLost || err instanceof MbErrNotConnected;
/** The peer itself cannot be reached (not merely one dropped connection). */
const isPeerDown = (err: Error) => err instanceof MbErrNotConnected;

/**
 * Polls registered Modbus TCP devices at their model's interval, reading each map in as few
 * requests as the protocol allows, and hands the decoded readings to the one ingest path; writes
 * commands (FC 05/06/16) and confirms them by reading back. Unit ids behind one host:port share
 * one connection (adapters/modbus/connection.ts).
 */
export class ModbusAdapter implements Adapter {
  readonly name = 'modbus';
  readonly #opts: Required<ModbusAdapterOptions>;
  #ctx: AdapterContext | null = null;
  readonly #polled = new Map<string, Polled>();
  readonly #pool = new Map<string, { conn: ModbusConnection; users: Set<string> }>();
  readonly #stats: ModbusAdapterStats = { polls: 0, failedPolls: 0, exceptions: 0, timeouts: 0, writes: 0 };

  constructor(opts: ModbusAdapterOptions = {}) {
    this.#opts = {
      pollIntervalMs: opts.pollIntervalMs ?? 0,
      requestTimeoutMs: opts.requestTimeoutMs ?? 2000,
      connectTimeoutMs: opts.connectTimeoutMs ?? 3000,
      reconnect: opts.reconnect ?? { initialMs: 1000, maxMs: 60_000 },
      maxPollBackoffMs: opts.maxPollBackoffMs ?? 300_000,
      offlineAfterFailures: opts.offlineAfterFailures ?? 3,
    };
  }

  serves(device: Device): boolean {
    return device.modbus !== null && device.modbus !== undefined;
  }

  async start(ctx: AdapterContext): Promise<void> {
    if (this.#ctx) return;
    this.#ctx = ctx;
    for (const device of ctx.devices.list()) this.track(device);
  }

  async stop(): Promise<void> {
    if (!this.#ctx) return;
    for (const id of [...this.#polled.keys()]) this.untrack(id, { presence: false });
    this.#ctx = null;
  }

  servedDevices(): string[] {
    return [...this.#polled.keys()];
  }

  holds(deviceId: string): boolean {
    return this.#polled.has(deviceId);
  }

  stats(): ModbusAdapterStats {
    return { ...this.#stats };
  }

  /** Starts polling a device (registered or enabled); ignored when stopped, disabled or not Modbus. */
  track(device: Device): void {
    const ctx = this.#ctx;
    if (!ctx || !device.enabled || !this.serves(device) || this.#polled.has(device.id)) return;
    const spec = ctx.specs.get(device.model);
    if (!spec?.modbus) {
      ctx.log.warn({ device: device.id, model: device.model }, 'Modbus endpoint on a model without a map');
      return;
    }
    const { host, port, unitId } = device.modbus!;
    const p: Polled = {
      device,
      spec,
      map: spec.modbus,
      plan: planReads(spec.modbus),
      conn: this.#acquire(host, port, device.id),
      topic: `modbus://${host}:${port}/unit/${unitId}`,
      intervalMs: this.#opts.pollIntervalMs || spec.modbus.pollIntervalMs,
      timer: null,
      failures: 0,
      linkDown: false,
      running: null,
    };
    this.#polled.set(device.id, p);
    this.#schedule(p, 0);
  }

  /** Stops polling a device (disabled, or the adapter stops). */
  untrack(id: string, opts: { presence?: boolean } = {}): void {
    const p = this.#polled.get(id);
    if (!p) return;
    this.#ctx?.clock.clearTimeout(p.timer);
    this.#polled.delete(id);
    const key = p.conn.key;
    const entry = this.#pool.get(key);
    entry?.users.delete(id);
    if (entry && entry.users.size === 0) {
      entry.conn.close();
      this.#pool.delete(key);
    }
    if (opts.presence !== false) this.#setOnline(p, false);
  }

  async execute(device: Device, command: AdapterCommand, onDelivered: () => void): Promise<AdapterResult> {
    try {
      return { ok: true, result: await this.#execute(device, command, onDelivered) };
    } catch (err) {
      return { ok: false, error: (err as Error).message };
    }
  }

  async #execute(device: Device, command: AdapterCommand, onDelivered: () => void): Promise<Values> {
    const p = this.#polled.get(device.id);
    if (!p) throw new MbErrNotServed(device.id);
    const cmd = findCommand(p.spec, command.name);
    if (!cmd) throw new MbErrUnknownCommand(command.name, p.spec.id);
    const parsed = cmd.params.safeParse(command.params ?? {});
    if (!parsed.success) {
      const reasons = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
      throw new MbErrBadParams(command.name, reasons.join('; '));
    }
    if (!cmd.modbus) {
      // No register to write (readNow): poll now, the reading is the result.
      const outcome = await this.#poll(p);
      if (!outcome.ok) throw outcome.error;
      onDelivered();
      return outcome.values;
    }
    const result = await writeAndConfirm({
      conn: p.conn,
      unitId: p.device.modbus!.unitId,
      map: p.map,
      write: cmd.modbus,
      params: parsed.data,
      onDelivered: () => {
        this.#stats.writes++;
        onDelivered();
      },
      onError: (err) => this.#count(err),
    });
    if (!p.running) this.#schedule(p, 0); // the next reading shows the new state
    return result;
  }

  #acquire(host: string, port: number, deviceId: string): ModbusConnection {
    const key = `${host}:${port}`;
    let entry = this.#pool.get(key);
    if (!entry) {
      const ctx = this.#ctx!;
      const conn = new ModbusConnection({
        host,
        port,
        clock: ctx.clock,
        log: ctx.log,
        requestTimeoutMs: this.#opts.requestTimeoutMs,
        connectTimeoutMs: this.#opts.connectTimeoutMs,
        reconnect: this.#opts.reconnect,
        onUp: () => {
          // Devices cut off by the link are polled at once, not at the end of their backoff; a
          // unit that timed out waits out its own backoff (else each reconnect would retry it).
          for (const p of this.#usersOf(key)) if (p.linkDown && !p.running) this.#schedule(p, 0);
        },
        onDown: () => {
          for (const p of this.#usersOf(key)) this.#setOnline(p, false);
        },
      });
      entry = { conn, users: new Set() };
      this.#pool.set(key, entry);
    }
    entry.users.add(deviceId);
    return entry.conn;
  }

  #usersOf(key: string): Polled[] {
    const ids = this.#pool.get(key)?.users ?? new Set<string>();
    return [...ids].flatMap((id) => this.#polled.get(id) ?? []);
  }

  #schedule(p: Polled, delayMs: number): void {
    const clock = this.#ctx?.clock;
    if (!clock || this.#polled.get(p.device.id) !== p) return;
    clock.clearTimeout(p.timer);
    p.timer = clock.setTimeout(() => void this.#poll(p), delayMs);
  }

  /** One poll of the whole map; concurrent callers share the poll in progress. */
  #poll(p: Polled): Promise<PollOutcome> {
    p.running ??= this.#pollOnce(p).finally(() => {
      p.running = null;
    });
    return p.running;
  }

  async #pollOnce(p: Polled): Promise<PollOutcome> {
    const unitId = p.device.modbus!.unitId;
    this.#stats.polls++;
    let values: Values;
    try {
      const results: ReadResult[] = [];
      for (const req of p.plan) {
        results.push(await p.conn.request(unitId, (c) => readTable(c, req.table, req.address, req.count)));
      }
      values = extractValues(p.map, p.plan, results);
    } catch (err) {
      this.#pollFailed(p, err as Error);
      return { ok: false, error: err as Error };
    }
    if (this.#polled.get(p.device.id) !== p) return { ok: true, values };
    p.failures = 0;
    p.linkDown = false;
    this.#setOnline(p, true);
    await this.#ingest(p, values);
    this.#schedule(p, p.intervalMs);
    return { ok: true, values };
  }

  #ingest(p: Polled, values: Values): Promise<void> {
    const ctx = this.#ctx!;
    const device = ctx.devices.get(p.device.id) ?? p.device;
    const payload = Buffer.from(JSON.stringify({ ...values, ts: ctx.clock.now() }));
    return new Promise((resolve) =>
      ctx.ingest.telemetry(
        { device, topic: p.topic, payload, acknowledged: true, source: 'modbus' },
        (err) => {
          if (err) ctx.log.warn({ device: device.id, err: err.message }, 'Modbus reading not committed');
          resolve();
        },
      ),
    );
  }

  #count(err: Error): void {
    if (isModbusException(err)) this.#stats.exceptions++;
    else if ((err as { code?: string }).code === 'MB_ERR_TIMEOUT') this.#stats.timeouts++;
  }

  #pollFailed(p: Polled, err: Error): void {
    const ctx = this.#ctx;
    if (!ctx || this.#polled.get(p.device.id) !== p) return;
    p.failures++;
    p.linkDown = isLinkError(err);
    this.#stats.failedPolls++;
    this.#count(err);
    const exception = isModbusException(err);
    ctx.log.warn({ device: p.device.id, failures: p.failures, err: err.message }, 'Modbus poll failed');
    // A plain exception answer means the device is there (its map or firmware disagrees);
    // gateway exceptions, timeouts and lost links mean it cannot be reached.
    const unreachable = !exception || GATEWAY_EXCEPTIONS.has(err.exceptionCode);
    if (unreachable && (isPeerDown(err) || p.failures >= this.#opts.offlineAfterFailures))
      this.#setOnline(p, false);
    else if (!unreachable) this.#setOnline(p, true);
    const backoff = p.intervalMs * 2 ** Math.min(p.failures - 1, 16);
    this.#schedule(p, Math.min(backoff, Math.max(this.#opts.maxPollBackoffMs, p.intervalMs)));
  }

  #setOnline(p: Polled, online: boolean): void {
    const ctx = this.#ctx;
    if (!ctx) return;
    const device = ctx.devices.get(p.device.id) ?? p.device;
    if (device.online !== online) ctx.presence(device, online);
  }
}
