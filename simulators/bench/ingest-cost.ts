import { type Device, newDevice } from '../../device-registry/devices.ts';
import type { ModelSpec } from '../../firmware-specs/define-device.ts';
import { cumulativeFields } from '../../firmware-specs/families.ts';
import { CounterSanity } from '../../gateway/alarms/counter-sanity.ts';
import { AlarmEngine } from '../../gateway/alarms/engine.ts';
import { effectiveRules } from '../../gateway/alarms/rules.ts';
import { Normalizer } from '../../gateway/ingest/normalizer.ts';
import { concreteVersion } from '../hanoi.ts';
import { createRng } from '../patterns.ts';

export interface IngestCostRow {
  model: string;
  firmware: string;
  modbus: boolean;
  /** CPU microseconds per reading: JSON parse, firmware schema, family schema, timestamp, line. */
  us: number;
}

const WARMUP = 3000;

function deviceOf(spec: ModelSpec, firmware: string): Device {
  const input = { id: `bench-${spec.id}`, model: spec.id, firmware, district: 'Hoàn Kiếm', ward: 'Hàng Bạc' };
  return { ...newDevice({ ...input, lat: 21.0288, lon: 105.8525 }, spec.family, 0), online: true };
}

/**
 * CPU cost of validation and normalization alone (Normalizer.telemetry), on each firmware's own
 * example payload with a device timestamp, measured with process.cpuUsage over many readings.
 */
export function measureIngestCost(
  specs: ReadonlyMap<string, ModelSpec>,
  iterations = 20_000,
): IngestCostRow[] {
  const normalizer = new Normalizer({ maxAgeMs: 7 * 24 * 3600_000 });
  const rows: IngestCostRow[] = [];
  for (const spec of specs.values()) {
    for (const [pattern, fw] of Object.entries(spec.firmware)) {
      const firmware = concreteVersion(pattern, createRng(spec.id));
      const device = deviceOf(spec, firmware);
      const now = Date.now();
      const payload = Buffer.from(JSON.stringify({ ...fw.example, ts: now - 1000 }));
      const check = normalizer.telemetry(device, spec, payload, now);
      if (check.accepted.length !== 1)
        throw new Error(
          `ingest cost: ${spec.id} ${firmware} example rejected: ${JSON.stringify(check.rejected)}`,
        );
      for (let i = 0; i < WARMUP; i++) normalizer.telemetry(device, spec, payload, now);
      const start = process.cpuUsage();
      for (let i = 0; i < iterations; i++) normalizer.telemetry(device, spec, payload, now);
      const used = process.cpuUsage(start);
      rows.push({
        model: spec.id,
        firmware,
        modbus: Boolean(spec.modbus),
        us: (used.user + used.system) / iterations,
      });
    }
  }
  return rows;
}

export interface AlarmCostRow {
  family: string;
  /** CPU nanoseconds per reading: counter sanity and the alarm engine with the default rules. */
  ns: number;
}

/**
 * CPU cost the alarms add per reading (issue 9: rules evaluate in memory at ingest): counter
 * sanity and AlarmEngine.reading over `devices` devices per family with every default rule, on
 * each family's example reading with its counter moving on. Nothing is raised: the readings are
 * normal, as nearly all are.
 */
export function measureAlarmCost(
  specs: ReadonlyMap<string, ModelSpec>,
  iterations = 200_000,
  devices = 1000,
): AlarmCostRow[] {
  const rows: AlarmCostRow[] = [];
  const byFamily = new Map<string, ModelSpec>();
  for (const spec of specs.values()) if (!byFamily.has(spec.family)) byFamily.set(spec.family, spec);
  for (const [family, spec] of byFamily) {
    const [pattern, fw] = Object.entries(spec.firmware)[0];
    const fields = fw.telemetry.decode(fw.example) ?? fw.telemetry.schema.parse(fw.example);
    const counters = new CounterSanity();
    let signals = 0;
    const engine = new AlarmEngine({
      clock: { now: () => 0, setTimeout: () => 0, clearTimeout: () => {} },
      rulesFor: (d) => effectiveRules(d, spec, []),
      onSignal: () => signals++,
      desiredState: () => null,
    });
    const fleet = Array.from({ length: devices }, (_, i) => ({
      ...deviceOf(spec, concreteVersion(pattern, createRng(spec.id))),
      id: `bench-${spec.id}-${i}`,
    }));
    const counterField = cumulativeFields[spec.family][0];
    const kept: unknown[] = new Array(1024);
    const run = (n: number, from: number, alarms: boolean) => {
      for (let i = 0; i < n; i++) {
        const device = fleet[i % devices];
        const ts = from + i * 10;
        const reading = { ...fields };
        if (counterField) reading[counterField] = (fields[counterField] as number) + ts * 1e-9;
        if (!alarms) {
          // Kept, so that the baseline allocates the reading as the measured loop does.
          kept[i & 1023] = reading;
          continue;
        }
        const check = counters.check(device, spec, reading, ts);
        if (check) reading.counter_check = check;
        engine.reading(device, reading, ts);
      }
    };
    const cpuNs = (alarms: boolean, from: number) => {
      const start = process.cpuUsage();
      run(iterations, from, alarms);
      const used = process.cpuUsage(start);
      return (used.user + used.system) * 1000;
    };
    run(WARMUP * 10, 0, true);
    run(WARMUP * 10, 0, false);
    // The loop's own work (a reading object per step) is measured alone and taken off.
    const withAlarms = cpuNs(true, 1e9);
    const loopOnly = cpuNs(false, 2e9);
    engine.stop();
    if (signals > 0) throw new Error(`alarm cost: the ${family} example raised ${signals} alarms`);
    rows.push({ family, ns: Math.max(0, withAlarms - loopOnly) / iterations });
  }
  return rows;
}
