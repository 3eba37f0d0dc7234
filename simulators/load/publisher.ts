import { performance } from 'node:perf_hooks';
import { connect, type MqttClient } from 'mqtt';
import type { ModelSpec } from '../../firmware-specs/define-device.ts';
import { acceleratedTime } from '../patterns.ts';
import { LatencyHistogram } from './histogram.ts';
import { emptyPublishCounters, type ProvisionedDevice, type PublishCounters, type Rate } from './protocol.ts';
import { ReadingSource } from './readings.ts';

interface LoadClient {
  id: string;
  secret: string;
  topic: string;
  source: ReadingSource;
  client?: MqttClient;
  inflight: number;
  open: boolean;
}

const TICK_MS = 10;
/** Open loop: a device with this many readings unacknowledged is skipped (counted as throttled). */
const MAX_INFLIGHT_PER_DEVICE = 100;
const MAX_ERRORS_KEPT = 20;

/**
 * The publishing side of one load worker: lean mqtt.js clients (one per device, real MQTT 3.1.1
 * connections), each publishing its model's raw layout; publish-to-PUBACK latency per reading.
 */
export class Publisher {
  readonly counters: PublishCounters = emptyPublishCounters();
  readonly histogram = new LatencyHistogram();
  readonly errors: string[] = [];
  readonly #clients: LoadClient[];
  readonly #url: string;
  readonly #qos: 0 | 1;
  readonly #anonymous: boolean;
  #connectedUpTo = 0;
  #running = false;
  #endAt = 0;
  #inflightLimit = 1;

  constructor(opts: {
    url: string;
    qos: 0 | 1;
    devices: readonly ProvisionedDevice[];
    specs: ReadonlyMap<string, ModelSpec>;
    accelerate?: number;
    anonymous?: boolean;
  }) {
    this.#url = opts.url;
    this.#qos = opts.qos;
    this.#anonymous = opts.anonymous ?? false;
    const now = Date.now();
    const patternTime = acceleratedTime(opts.accelerate ?? 1, now, now);
    this.#clients = opts.devices.map((d) => {
      const spec = opts.specs.get(d.model);
      if (!spec) throw new Error(`load: device ${d.id} has unknown model ${d.model}`);
      return {
        id: d.id,
        topic: `devices/${d.id}/telemetry`,
        source: new ReadingSource({
          id: d.id,
          spec,
          firmware: d.firmware,
          patternTime,
          lat: d.lat,
          lon: d.lon,
        }),
        inflight: 0,
        open: false,
        secret: d.secret,
      };
    });
  }

  #error(message: string): void {
    if (this.errors.length < MAX_ERRORS_KEPT) this.errors.push(message);
  }

  #connectOne(c: LoadClient): Promise<void> {
    return new Promise((resolve) => {
      const client = connect(this.#url, {
        clientId: c.id,
        username: c.id,
        password: this.#anonymous ? 'bare' : c.secret,
        protocolVersion: 4, // Aedes 1.x speaks MQTT 3.1.1
        clean: true,
        reconnectPeriod: 0, // a lost connection is counted, not hidden by a reconnect
        connectTimeout: 30_000,
        keepalive: 60,
        queueQoSZero: false,
      });
      c.client = client;
      let settled = false;
      client.once('connect', () => {
        c.open = true;
        this.counters.connected++;
        settled = true;
        resolve();
      });
      client.on('error', (err) => {
        if (!settled) {
          settled = true;
          this.counters.connectFailed++;
          this.#error(`${c.id}: ${err.message}`);
          client.end(true);
          resolve();
        }
      });
      client.on('close', () => {
        if (c.open) {
          c.open = false;
          this.counters.connected--;
          if (this.#running) {
            this.counters.disconnects++;
            this.#error(`${c.id}: connection closed during the run`);
          }
        } else if (!settled) {
          settled = true;
          this.counters.connectFailed++;
          this.#error(`${c.id}: connection closed before CONNACK`);
          resolve();
        }
      });
    });
  }

  /** Connects the next `count` devices, at most `perSecond`; resolves when each connected or failed. */
  async connect(count: number, perSecond: number): Promise<void> {
    const from = this.#connectedUpTo;
    const to = Math.min(this.#clients.length, from + count);
    this.#connectedUpTo = to;
    const perTick = Math.max(1, Math.round((perSecond * TICK_MS * 2) / 1000));
    const tickMs = (perTick * 1000) / perSecond;
    const pending: Promise<void>[] = [];
    for (let i = from; i < to; i += perTick) {
      if (i > from) await new Promise((r) => setTimeout(r, tickMs));
      for (const c of this.#clients.slice(i, Math.min(to, i + perTick))) pending.push(this.#connectOne(c));
    }
    await Promise.all(pending);
  }

  #publishOne(c: LoadClient, repump: boolean): void {
    const { payload } = c.source.next(Date.now());
    c.inflight++;
    this.counters.inflight++;
    this.counters.sent++;
    const t0 = performance.now();
    c.client!.publish(c.topic, payload, { qos: this.#qos }, (err) => {
      c.inflight--;
      this.counters.inflight--;
      if (err) {
        this.counters.failed++;
        this.#error(`${c.id}: ${err.message}`);
      } else {
        this.counters.acked++;
        this.histogram.record((performance.now() - t0) * 1000);
      }
      if (repump && this.#running) {
        // QoS 0 callbacks can come back within the publish: keep the stack flat.
        if (this.#qos === 0) setImmediate(() => this.#pump(c));
        else this.#pump(c);
      }
    });
  }

  /** Closed loop: keep the device's window full until the end of the run. */
  #pump(c: LoadClient): void {
    while (this.#running && c.open && c.inflight < this.#inflightLimit && Date.now() < this.#endAt)
      this.#publishOne(c, true);
  }

  /** Publishes from `startAt` for `durationMs`, then awaits outstanding acks up to `drainMs`. */
  async run(opts: { startAt: number; durationMs: number; rate: Rate; inflight: number; drainMs: number }) {
    await new Promise((r) => setTimeout(r, Math.max(0, opts.startAt - Date.now())));
    this.#running = true;
    this.#endAt = opts.startAt + opts.durationMs;
    this.#inflightLimit = Math.max(1, opts.inflight);
    const open = this.#clients.filter((c) => c.open);
    if (opts.rate === 'max') {
      for (const c of open) this.#pump(c);
      await new Promise((r) => setTimeout(r, Math.max(0, this.#endAt - Date.now())));
    } else if (open.length > 0) {
      await this.#openLoop(open, opts.rate, opts.startAt);
    }
    this.#running = false;
    this.counters.ackedInWindow = this.counters.acked;
    const drainUntil = Date.now() + opts.drainMs;
    while (this.counters.inflight > 0 && Date.now() < drainUntil) await new Promise((r) => setTimeout(r, 20));
  }

  /** Open loop at `rate` readings/s over the devices in turn, whatever the broker's pace. */
  async #openLoop(open: LoadClient[], rate: number, startAt: number): Promise<void> {
    const limit = Math.min(this.#inflightLimit, MAX_INFLIGHT_PER_DEVICE);
    const maxPerTick = Math.max(1, Math.ceil(rate / 5));
    let issued = 0;
    let next = 0;
    while (Date.now() < this.#endAt) {
      const due = Math.min(maxPerTick, Math.floor((rate * (Date.now() - startAt)) / 1000) - issued);
      for (let k = 0; k < due; k++) {
        const c = open[next];
        next = (next + 1) % open.length;
        issued++;
        if (!c.open || c.inflight >= limit) this.counters.throttled++;
        else this.#publishOne(c, false);
      }
      await new Promise((r) => setTimeout(r, TICK_MS));
    }
  }

  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(
      this.#clients.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (!c.client) return resolve();
            c.client.end(false, {}, () => resolve());
            setTimeout(() => c.client!.end(true, {}, () => resolve()), 2000).unref();
          }),
      ),
    );
  }
}
