import type { Device } from '../../device-registry/devices.ts';
import type { ModelSpec } from '../../firmware-specs/define-device.ts';
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
  return {
    id: `bench-${spec.id}`,
    model: spec.id,
    family: spec.family,
    firmware,
    district: 'Hoàn Kiếm',
    ward: 'Hàng Bạc',
    lat: 21.0288,
    lon: 105.8525,
    tags: [],
    enabled: true,
    modbus: null,
    createdAt: 0,
    online: true,
    lastSeenAt: null,
    lastReading: null,
    lastReadingAt: null,
    reportedState: null,
    reportedAt: null,
  };
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
