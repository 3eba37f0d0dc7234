import { EventEmitter } from 'node:events';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import {
  type FirmwareSpec,
  findCommand,
  findFirmware,
  type ModelSpec,
} from '../firmware-specs/define-device.ts';
import { createPattern, type DevicePattern, type Reading } from './patterns.ts';

/** Wall time and timers, injected (STYLE.md); structurally the gateway's Clock. */
export interface SimClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: SimClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface SimulatedDeviceOptions {
  id: string;
  spec: ModelSpec;
  /** A concrete version (`2.1.0`) matching one of the spec's firmware patterns. */
  firmware: string;
  url: string;
  secret: string;
  /** QoS of telemetry; state and replies are always QoS 1. */
  qos?: 0 | 1;
  /** Wall milliseconds between readings; default the model's reportIntervalSeconds, else 60 s. */
  intervalMs?: number;
  clock?: SimClock;
  /** Wall time to pattern time, for accelerated days (see acceleratedTime); default identity. */
  patternTime?: (wallMs: number) => number;
  pattern?: DevicePattern;
  lat?: number;
  lon?: number;
  /** Publish a reading as soon as the device connects (default true). */
  publishOnConnect?: boolean;
  /** Wall milliseconds a valve takes for a full 0-100 % stroke (default 4000). */
  valveTravelMs?: number;
  valveStepMs?: number;
  /** Misbehaviour for tests. */
  replyDelayMs?: number;
  neverReply?: boolean;
  failCommands?: readonly string[];
  /** mqtt.js reconnect period in ms (its default 1000; 0 disables). */
  reconnectPeriod?: number;
  clean?: boolean;
  mqtt?: Partial<IClientOptions>;
}

export interface DeviceCounters {
  connects: number;
  disconnects: number;
  errors: number;
  telemetry: number;
  telemetryFailed: number;
  state: number;
  commands: number;
  commandsOk: number;
  commandsFailed: number;
  replies: number;
}

export const emptyCounters = (): DeviceCounters => ({
  connects: 0,
  disconnects: 0,
  errors: 0,
  telemetry: 0,
  telemetryFailed: 0,
  state: 0,
  commands: 0,
  commandsOk: 0,
  commandsFailed: 0,
  replies: 0,
});

export type CommandReply = { ok: true; result: Record<string, unknown> } | { ok: false; error: string };

interface CommandMessage {
  name?: unknown;
  params?: unknown;
  expiresAt?: unknown;
}

const REMEMBERED_REPLIES = 100;
const fail = (error: string): CommandReply => ({ ok: false, error });

/**
 * One MQTT device of docs/design.md's wire contract: telemetry in its firmware's raw layout,
 * reported state, and commands obeyed and replied. Events: `telemetry` (reading, raw), `state`,
 * `command` ({commandId, name, params}), `reply` ({commandId, reply}).
 */
export class SimulatedDevice extends EventEmitter {
  readonly id: string;
  readonly spec: ModelSpec;
  readonly firmwareVersion: string;
  readonly counters = emptyCounters();
  readonly pattern: DevicePattern;
  lastError?: Error;
  private readonly firmware: FirmwareSpec;
  private readonly clock: SimClock;
  private readonly topic: string;
  private client?: MqttClient;
  private intervalMs: number;
  private tick?: unknown;
  private lastState?: string;
  private readonly replies = new Map<string, CommandReply | 'pending'>();
  private valveMove?: { timer?: unknown; done: (reply: CommandReply) => void };
  private stopped = false;
  private online = false;
  private abortStart?: () => void;

  constructor(private readonly opts: SimulatedDeviceOptions) {
    super();
    this.id = opts.id;
    this.spec = opts.spec;
    this.firmwareVersion = opts.firmware;
    const fw = findFirmware(opts.spec, opts.firmware);
    if (!fw) throw new Error(`${opts.id}: model ${opts.spec.id} has no firmware ${opts.firmware}`);
    this.firmware = fw;
    this.clock = opts.clock ?? realClock;
    this.topic = `devices/${opts.id}/`;
    this.intervalMs = opts.intervalMs ?? (opts.spec.reportIntervalSeconds ?? 60) * 1000;
    this.pattern =
      opts.pattern ?? createPattern(opts.spec.family, { seed: opts.id, lat: opts.lat, lon: opts.lon });
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  get reportIntervalMs(): number {
    return this.intervalMs;
  }

  /** Connects; resolves once subscribed to its commands, rejects when the broker refuses it. */
  start(): Promise<void> {
    this.stopped = false;
    const client = connect(this.opts.url, {
      clientId: this.id,
      username: this.id,
      password: this.opts.secret,
      protocolVersion: 4, // Aedes 1.x speaks MQTT 3.1.1
      clean: this.opts.clean ?? true,
      resubscribe: false,
      ...(this.opts.reconnectPeriod !== undefined && { reconnectPeriod: this.opts.reconnectPeriod }),
      ...this.opts.mqtt,
    });
    this.client = client;
    client.on('message', (topic, payload) => this.onCommand(topic, payload));
    client.on('close', () => {
      if (this.online) this.counters.disconnects++;
      this.online = false;
    });
    return new Promise((resolve, reject) => {
      let settled = false;
      this.abortStart = () => {
        if (!settled) reject(new Error(`${this.id}: stopped before it connected`));
        settled = true;
      };
      client.on('error', (err) => {
        this.counters.errors++;
        this.lastError = err;
        // A CONNACK refusal carries a numeric return code [MQTT-3.2.2.3]; socket errors a string.
        const refused = typeof (err as { code?: unknown }).code === 'number';
        if (!settled && (refused || this.opts.reconnectPeriod === 0)) {
          settled = true;
          reject(err);
        }
      });
      client.on('connect', (connack) => {
        this.counters.connects++;
        this.online = true;
        this.lastState = undefined; // report state afresh on every connection
        const subscribed = connack.sessionPresent
          ? Promise.resolve()
          : client.subscribeAsync(`${this.topic}commands/+`, { qos: 1 }).then(() => undefined);
        subscribed
          .then(() => {
            if (this.opts.publishOnConnect ?? true) this.publishTelemetry();
            else this.publishState();
            if (this.tick === undefined) this.schedule();
            if (!settled) {
              settled = true;
              resolve();
            }
          })
          .catch((err: Error) => {
            this.counters.errors++;
            this.lastError = err;
          });
      });
    });
  }

  /** Graceful end: timers cleared, in-flight QoS 1 messages given a moment to complete. */
  async stop(graceMs = 2000): Promise<void> {
    this.stopped = true;
    if (this.tick !== undefined) this.clock.clearTimeout(this.tick);
    this.tick = undefined;
    this.valveMove?.done(fail('device stopped'));
    this.abortStart?.();
    const client = this.client;
    if (!client) return;
    let timer: unknown;
    const forced = new Promise<void>((resolve) => {
      timer = this.clock.setTimeout(() => client.end(true, () => resolve()), graceMs);
    });
    await Promise.race([client.endAsync(), forced]);
    this.clock.clearTimeout(timer);
  }

  /** Takes a reading now and publishes it in the firmware's raw layout; returns the canonical one. */
  publishTelemetry(): Reading {
    const reading = this.pattern.read((this.opts.patternTime ?? ((t) => t))(this.clock.now()));
    const raw = this.firmware.telemetry.encode(reading);
    this.client?.publish(
      `${this.topic}telemetry`,
      JSON.stringify({ ...raw, ts: this.clock.now() }),
      { qos: this.opts.qos ?? 0 },
      (err) => {
        if (err) this.counters.telemetryFailed++;
        else this.counters.telemetry++;
      },
    );
    this.emit('telemetry', reading, raw);
    this.publishState();
    return reading;
  }

  /** Reported state (canonical fields), published when it changed since the last report. */
  publishState(force = false): Record<string, unknown> {
    const state: Record<string, unknown> = { ...this.pattern.reported() };
    if (this.spec.commands.setReportInterval) state.report_interval_seconds = this.intervalMs / 1000;
    const json = JSON.stringify(state);
    if (force || json !== this.lastState) {
      this.lastState = json;
      this.client?.publish(`${this.topic}state`, json, { qos: 1 }, (err) => {
        if (!err) this.counters.state++;
      });
      this.emit('state', state);
    }
    return state;
  }

  private schedule(): void {
    if (this.stopped) return;
    if (this.tick !== undefined) this.clock.clearTimeout(this.tick);
    this.tick = this.clock.setTimeout(() => {
      this.tick = undefined;
      this.publishTelemetry();
      this.schedule();
    }, this.intervalMs);
  }

  private async onCommand(topic: string, payload: Buffer): Promise<void> {
    const commandId = topic.slice(`${this.topic}commands/`.length);
    if (!topic.startsWith(`${this.topic}commands/`) || !commandId || commandId.includes('/')) return;
    const known = this.replies.get(commandId);
    if (known === 'pending') return; // a QoS 1 redelivery of a command still running
    if (known) return this.sendReply(commandId, known); // already done: the same answer again
    this.counters.commands++;
    this.replies.set(commandId, 'pending');
    if (this.replies.size > REMEMBERED_REPLIES) this.replies.delete(this.replies.keys().next().value!);
    const reply = await this.execute(commandId, payload).catch((err: Error) => fail(err.message));
    this.replies.set(commandId, reply);
    if (reply.ok) this.counters.commandsOk++;
    else this.counters.commandsFailed++;
    if (this.opts.neverReply) return;
    if (this.opts.replyDelayMs)
      this.clock.setTimeout(() => this.sendReply(commandId, reply), this.opts.replyDelayMs);
    else this.sendReply(commandId, reply);
  }

  private sendReply(commandId: string, reply: CommandReply): void {
    if (this.stopped) return;
    this.client?.publish(
      `${this.topic}commands/${commandId}/reply`,
      JSON.stringify(reply),
      { qos: 1 },
      (err) => {
        if (!err) this.counters.replies++;
      },
    );
    this.emit('reply', { commandId, reply });
  }

  private async execute(commandId: string, payload: Buffer): Promise<CommandReply> {
    let msg: CommandMessage;
    try {
      msg = JSON.parse(payload.toString('utf8')) as CommandMessage;
    } catch {
      return fail('payload is not JSON');
    }
    if (typeof msg !== 'object' || msg === null || typeof msg.name !== 'string')
      return fail('no command name');
    const name = msg.name;
    this.emit('command', { commandId, name, params: msg.params });
    if (msg.expiresAt !== undefined) {
      const expiresAt = typeof msg.expiresAt === 'number' ? msg.expiresAt : Date.parse(String(msg.expiresAt));
      if (Number.isFinite(expiresAt) && expiresAt <= this.clock.now()) return fail('expired');
    }
    const command = findCommand(this.spec, name);
    if (!command) return fail(`unknown command "${name}" for model ${this.spec.id}`);
    const parsed = command.params.safeParse(msg.params ?? {});
    if (!parsed.success) {
      const reasons = parsed.error.issues.map((i) => `${i.path.join('.') || 'params'}: ${i.message}`);
      return fail(`invalid params: ${reasons.join('; ')}`);
    }
    if (this.opts.failCommands?.includes(name)) return fail(`simulated failure of ${name}`);
    const params = parsed.data as Record<string, any>;
    switch (name) {
      case 'readNow':
        return { ok: true, result: this.publishTelemetry() };
      case 'setReportInterval':
        this.intervalMs = params.seconds * 1000;
        this.schedule();
        return { ok: true, result: this.publishState() };
      case 'setValve':
        return this.moveValve(params.percent);
      case 'setRelay':
        this.pattern.apply({ relay_closed: params.closed });
        return { ok: true, result: this.publishState() };
      default:
        // Any other state command of a spec: its desired state (setDimming, switchLamp, ...).
        if (command.desired) this.pattern.apply(command.desired(params));
        return { ok: true, result: this.publishState() };
    }
  }

  /** Moves the valve in steps at its stroke speed, then reports; a newer move supersedes it. */
  private moveValve(target: number): Promise<CommandReply> {
    this.valveMove?.done(fail('superseded by a newer setValve'));
    const from = Number(this.pattern.reported().valve_percent ?? 0);
    const travelMs = (Math.abs(target - from) / 100) * (this.opts.valveTravelMs ?? 4000);
    const stepMs = this.opts.valveStepMs ?? 250;
    const steps = Math.max(1, Math.ceil(travelMs / stepMs));
    return new Promise((resolve) => {
      const move: NonNullable<typeof this.valveMove> = {
        done: (reply) => {
          if (move.timer !== undefined) this.clock.clearTimeout(move.timer);
          if (this.valveMove === move) this.valveMove = undefined;
          resolve(reply);
        },
      };
      this.valveMove = move;
      let step = 0;
      const advance = () => {
        step++;
        this.pattern.apply({ valve_percent: from + ((target - from) * step) / steps });
        if (step < steps) {
          move.timer = this.clock.setTimeout(advance, travelMs / steps);
          return;
        }
        move.timer = undefined;
        move.done({ ok: true, result: this.publishState() });
      };
      move.timer = this.clock.setTimeout(advance, travelMs / steps);
    });
  }
}
