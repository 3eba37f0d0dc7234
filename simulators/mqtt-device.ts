import { EventEmitter } from 'node:events';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import {
  type FirmwareSpec,
  findCommand,
  findFirmware,
  type ModelSpec,
} from '../firmware-specs/define-device.ts';
import { downloadImage, OtaError, type OtaFaults, type OtaParams } from './ota-update.ts';
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
  /** Demo faults now and then (patterns.ts PatternOptions.faults). */
  faults?: boolean;
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
  /** Firmware updates (otaUpdate) and how they fail on purpose. */
  ota?: OtaFaults;
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
  /** Changes when an otaUpdate boots into a new image. */
  firmwareVersion: string;
  readonly counters = emptyCounters();
  readonly pattern: DevicePattern;
  lastError?: Error;
  private firmware: FirmwareSpec;
  /** Reported with the state once an update has begun (docs/design.md, "Firmware campaigns"). */
  private otaState?: { ota_status: string; ota_progress_pct: number; ota_command_id: string };
  /** Between the reboot of an update and its reply: no telemetry in the new layout before the reply. */
  private rebooting = false;
  private afterReply?: () => void;
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
      opts.pattern ??
      createPattern(opts.spec.family, { seed: opts.id, lat: opts.lat, lon: opts.lon, faults: opts.faults });
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
      // The broker may close a connection before its CONNACK without an error (its connect
      // timeout, a transport limit): without reconnects that is the end of this start.
      client.on('close', () => {
        if (!settled && this.opts.reconnectPeriod === 0) {
          settled = true;
          reject(new Error(`${this.id}: connection closed while connecting`));
        }
      });
      client.on('connect', (connack) => {
        this.counters.connects++;
        this.online = true;
        this.lastState = undefined; // report state afresh on every connection
        const rebooting = this.rebooting;
        const subscribed = connack.sessionPresent
          ? Promise.resolve()
          : client.subscribeAsync(`${this.topic}commands/+`, { qos: 1 }).then(() => undefined);
        subscribed
          .then(() => {
            if (rebooting) this.publishState();
            else if (this.opts.publishOnConnect ?? true) this.publishTelemetry();
            else this.publishState();
            if (this.tick === undefined && !rebooting) this.schedule();
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
    if (this.otaState) Object.assign(state, this.otaState, { firmware: this.firmwareVersion });
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
    else await this.sendReply(commandId, reply);
    const after = this.afterReply;
    this.afterReply = undefined;
    after?.();
  }

  /** Resolves once the gateway acknowledged the reply (PUBACK), or at once when it could not go. */
  private sendReply(commandId: string, reply: CommandReply): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.emit('reply', { commandId, reply });
    return new Promise((resolve) => {
      if (!this.client) return resolve();
      this.client.publish(
        `${this.topic}commands/${commandId}/reply`,
        JSON.stringify(reply),
        { qos: 1 },
        (err) => {
          if (!err) this.counters.replies++;
          resolve();
        },
      );
    });
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
      case 'otaUpdate':
        return this.otaUpdate(commandId, params as OtaParams);
      case 'setRelay':
        this.pattern.apply({ relay_closed: params.closed });
        return { ok: true, result: this.publishState() };
      default:
        // Any other state command of a spec: its desired state (setDimming, switchLamp, ...).
        if (command.desired) this.pattern.apply(command.desired(params));
        return { ok: true, result: this.publishState() };
    }
  }

  private reportOta(commandId: string, status: string, pct: number): void {
    this.otaState = { ota_status: status, ota_progress_pct: pct, ota_command_id: commandId };
    this.publishState(true);
  }

  /**
   * Download (resumed by Range after a cut), sha256 check, install, reboot: the connection
   * closes and comes back with the new firmware, which answers the command. A failed boot comes
   * back on the old firmware and says so; the gateway counts that as a failure.
   */
  private async otaUpdate(commandId: string, p: OtaParams): Promise<CommandReply> {
    const faults = this.opts.ota ?? {};
    const random = faults.random ?? Math.random;
    this.reportOta(commandId, 'downloading', 0);
    let sha256: string;
    try {
      sha256 = await downloadImage(
        p,
        faults,
        (pct) => this.reportOta(commandId, 'downloading', pct),
        (from) => this.emit('otaResume', from),
        (ms) => new Promise((resolve) => this.clock.setTimeout(resolve, ms)),
      );
    } catch (err) {
      this.reportOta(commandId, 'failed', 0);
      return fail(err instanceof OtaError ? err.message : `download failed: ${(err as Error).message}`);
    }
    this.reportOta(commandId, 'verifying', 100);
    if (sha256 !== p.sha256) {
      this.reportOta(commandId, 'failed', 100);
      return fail(`checksum mismatch: the image has sha256 ${sha256}, not ${p.sha256}`);
    }
    this.reportOta(commandId, 'installing', 100);
    const next = findFirmware(this.spec, p.version);
    if (!next) return fail(`firmware ${p.version} is not an image for ${this.spec.id}`);
    this.reportOta(commandId, 'rebooting', 100);
    await this.reboot(faults.rebootMs ?? 300, () => {
      if (random() < (faults.bootFailureRate ?? 0)) return; // the bootloader fell back
      this.firmwareVersion = p.version;
      this.firmware = next;
    });
    if (this.stopped) return fail('device stopped');
    this.otaState = { ota_status: 'idle', ota_progress_pct: 100, ota_command_id: commandId };
    this.publishState(true);
    this.afterReply = () => {
      this.rebooting = false;
      this.publishTelemetry();
      this.schedule();
    };
    return { ok: true, result: { firmware: this.firmwareVersion } };
  }

  /** Closes the connection, "boots", and connects again without telemetry until the reply went. */
  private async reboot(ms: number, boot: () => void): Promise<void> {
    this.rebooting = true;
    if (this.tick !== undefined) this.clock.clearTimeout(this.tick);
    this.tick = undefined;
    const sleep = (t: number) => new Promise<void>((resolve) => this.clock.setTimeout(resolve, t));
    // A graceful end waits for unacknowledged messages, forever when the broker is gone: a
    // reboot does not wait long.
    const client = this.client;
    if (client) {
      await Promise.race([client.endAsync().catch(() => undefined), sleep(1000)]);
      if (!client.disconnected) client.end(true);
    }
    await sleep(ms);
    if (this.stopped) return;
    boot();
    this.emit('reboot', this.firmwareVersion);
    await this.start();
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
