import type { Device, DeviceStore } from '../../device-registry/devices.ts';
import type { Clock } from '../clock.ts';
import type { Metrics } from '../metrics.ts';
import { type QuarantineEntry, quarantineEntry } from '../quarantine-store.ts';
import type { GroupCommitter } from './group-commit.ts';
import type { Accepted, Normalizer, Rejected } from './normalizer.ts';
import type { Reason } from './rejection.ts';

export interface IngestInput {
  device: Device;
  topic: string;
  payload: Buffer;
  /** The sender waits for an acknowledgement (MQTT QoS 1, a Modbus poll that must not be lost). */
  acknowledged: boolean;
  source: 'mqtt' | 'modbus';
}

/**
 * The one ingest path for every protocol: validate and normalize, then commit accepted readings
 * and quarantined ones together; `done` runs after the commit (the MQTT PUBACK waits on it).
 */
export class Ingest {
  readonly #devices: DeviceStore;
  readonly #normalizer: Normalizer;
  readonly #committer: GroupCommitter;
  readonly #metrics: Metrics;
  readonly #clock: Clock;
  readonly #maxRawBytes: number;
  readonly #onReadings;
  // Labelled children looked up once: prom-client hashes the labels on every inc() otherwise.
  readonly #received;
  readonly #accepted = new Map<string, ReturnType<Metrics['accepted']['labels']>>();

  constructor(deps: {
    devices: DeviceStore;
    normalizer: Normalizer;
    committer: GroupCommitter;
    metrics: Metrics;
    clock: Clock;
    /** QUARANTINE_MAX_RAW_BYTES: bytes of a refused payload kept. */
    maxRawBytes?: number;
    /** After the commit, the accepted readings of one message (alarm rules, history rollups). */
    onReadings?(device: Device, readings: readonly Accepted[]): void;
  }) {
    this.#devices = deps.devices;
    this.#normalizer = deps.normalizer;
    this.#committer = deps.committer;
    this.#metrics = deps.metrics;
    this.#clock = deps.clock;
    this.#maxRawBytes = deps.maxRawBytes ?? 4096;
    this.#onReadings = deps.onReadings;
    this.#received = {
      mqtt: deps.metrics.received.labels({ source: 'mqtt' }),
      modbus: deps.metrics.received.labels({ source: 'modbus' }),
    };
  }

  #acceptedOf(family: string) {
    let child = this.#accepted.get(family);
    if (!child) {
      child = this.#metrics.accepted.labels({ family });
      this.#accepted.set(family, child);
    }
    return child;
  }

  #quarantine(input: IngestInput, rejected: Rejected[], receivedAt: number): QuarantineEntry[] {
    return rejected.map((r) => {
      this.#metrics.quarantined.inc(r.readings);
      return quarantineEntry(
        { deviceId: input.device.id, topic: input.topic, payload: r.raw, reasons: r.reasons, receivedAt },
        this.#maxRawBytes,
      );
    });
  }

  telemetry(input: IngestInput, done: (err?: Error) => void): void {
    const receivedAt = this.#clock.now();
    const { device } = input;
    const result = this.#normalizer.telemetry(device, this.#devices.spec(device), input.payload, receivedAt);
    this.#received[input.source].inc(
      result.accepted.length + result.rejected.reduce((n, r) => n + r.readings, 0),
    );
    this.#committer.submit({
      lines: result.accepted.map((a) => a.line),
      quarantined: this.#quarantine(input, result.rejected, receivedAt),
      acknowledged: input.acknowledged,
      done: (err) => {
        // The readings are committed: the PUBACK leaves even if the registry's copy fails.
        try {
          if (!err && result.accepted.length) {
            this.#acceptedOf(device.family).inc(result.accepted.length);
            for (const a of result.accepted) this.#devices.recordReading(device.id, a.fields, a.ts);
            this.#onReadings?.(device, result.accepted);
          }
        } finally {
          done(err);
        }
      },
    });
  }

  /** Reported state: kept in the registry; a malformed report is quarantined like a reading. */
  state(
    input: IngestInput,
    done: (err?: Error) => void,
    onState?: (state: Record<string, unknown>) => void,
  ): void {
    const receivedAt = this.#clock.now();
    const checked = this.#normalizer.state(input.device, input.payload);
    this.#metrics.stateReports.inc();
    if (checked.ok) {
      this.#devices.recordState(input.device.id, checked.state, receivedAt);
      onState?.(checked.state);
    }
    // Through the committer even with nothing to write: PUBACKs leave in arrival order.
    this.#committer.submit({
      lines: [],
      quarantined: checked.ok
        ? []
        : this.#quarantine(
            input,
            [{ raw: input.payload, reasons: checked.reasons, readings: 1 }],
            receivedAt,
          ),
      acknowledged: input.acknowledged,
      done,
    });
  }

  /**
   * A handler threw on this message: it is kept with the reason and acknowledged, so a device
   * with a persistent session does not send the same poison again on every reconnect.
   */
  internalError(input: IngestInput, reason: Reason, done: (err?: Error) => void): void {
    this.#committer.submit({
      lines: [],
      quarantined: this.#quarantine(
        input,
        [{ raw: input.payload, reasons: [reason], readings: 1 }],
        this.#clock.now(),
      ),
      acknowledged: input.acknowledged,
      done,
    });
  }

  /** Runs `done` after everything submitted before it is committed, keeping PUBACK order. */
  inOrder(acknowledged: boolean, done: (err?: Error) => void): void {
    this.#committer.submit({ lines: [], quarantined: [], acknowledged, done });
  }
}
