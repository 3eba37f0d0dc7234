import type { ModelSpec } from '../../firmware-specs/define-device.ts';
import type { DevicePlan } from '../hanoi.ts';
import { probeField } from './readings.ts';

interface ExportedSeries {
  metric: Record<string, string>;
  timestamps: number[];
}

/**
 * Readings of these devices stored in victoria-metrics since `sinceMs`, read back through
 * /api/v1/export: per device, the distinct timestamps of one field present in every reading of its
 * model (victoria-metrics names a line-protocol field `{measurement}_{field}`).
 */
export async function countStored(opts: {
  victoriaUrl: string;
  devices: readonly DevicePlan[];
  specs: ReadonlyMap<string, ModelSpec>;
  sinceMs: number;
}): Promise<number> {
  const probeOf = new Map<string, string>();
  const metricOf = new Map<string, string>();
  for (const d of opts.devices) {
    const key = `${d.model}@${d.firmware}`;
    let field = probeOf.get(key);
    if (!field) {
      field = probeField(opts.specs.get(d.model)!, d.firmware);
      probeOf.set(key, field);
    }
    metricOf.set(d.id, `${d.family}_${field}`);
  }
  const res = await fetch(`${opts.victoriaUrl}/internal/force_flush`);
  if (!res.ok) throw new Error(`victoria-metrics force_flush: ${res.status}`);
  let stored = 0;
  for (const metric of new Set(metricOf.values())) {
    const url = `${opts.victoriaUrl}/api/v1/export?match[]=${encodeURIComponent(`{__name__="${metric}"}`)}&start=${
      Math.floor(opts.sinceMs / 1000) - 1
    }`;
    const r = await fetch(url, { signal: AbortSignal.timeout(120_000) });
    if (!r.ok) throw new Error(`victoria-metrics export: ${r.status} ${await r.text()}`);
    const text = await r.text();
    for (const line of text.split('\n')) {
      if (!line) continue;
      const s = JSON.parse(line) as ExportedSeries;
      if (metricOf.get(s.metric.device_id) !== metric) continue;
      stored += new Set(s.timestamps.filter((t) => t >= opts.sinceMs)).size;
    }
  }
  return stored;
}
