import { type Device, deviceStatus } from '../../device-registry/devices.ts';
import { FAMILIES, type Family } from '../../firmware-specs/families.ts';
import { HANOI_DISTRICTS } from '../../simulators/hanoi.ts';
import { SEVERITIES, type Severity } from '../alarms/types.ts';
import { type HistorySource, KEY_FIELDS } from './history-source.ts';

/** Open alarms of a district by severity; the alarm service provides it (zeros until it does). */
export type OpenAlarmCounts = (district: string) => Record<Severity, number>;

export const noAlarms: OpenAlarmCounts = () =>
  Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;

const MEANS_WINDOW_MS = 3600_000;

/** Hanoi's 30 districts in their usual order, then any other district the registry holds. */
export function districtNames(registered: Iterable<string>): string[] {
  const known = HANOI_DISTRICTS.map((d) => d.name);
  const extra = [...new Set(registered)].filter((n) => !known.includes(n)).sort();
  return [...known, ...extra];
}

export interface SummaryInput {
  name: string;
  devices: Device[];
  now: number;
  source: HistorySource;
  openAlarms: OpenAlarmCounts;
}

/** Devices by family and status, open alarms, and the last hour's mean of each family's key fields. */
export async function districtSummary(input: SummaryInput) {
  const { name, devices, now, source } = input;
  const byFamily: Partial<Record<Family, { online: number; offline: number; disabled: number }>> = {};
  const ids: Partial<Record<Family, string[]>> = {};
  for (const d of devices) {
    const c = byFamily[d.family] ?? { online: 0, offline: 0, disabled: 0 };
    c[deviceStatus(d)]++;
    byFamily[d.family] = c;
    const list = ids[d.family] ?? [];
    list.push(d.id);
    ids[d.family] = list;
  }
  // Whole minutes, the rollup's grain, so that both sources average the same readings.
  const from = Math.floor((now - MEANS_WINDOW_MS) / 60_000) * 60_000;
  const to = Math.ceil(now / 60_000) * 60_000;
  const means: Record<string, Record<string, number | null>> = {};
  let error: string | undefined;
  try {
    for (const family of FAMILIES) {
      const deviceIds = ids[family];
      if (!deviceIds) continue;
      means[family] = await source.means({
        district: name,
        family,
        deviceIds,
        fields: KEY_FIELDS[family],
        from,
        to,
      });
    }
  } catch (err) {
    // The counts still answer when InfluxDB does not: a shift needs them most then.
    error = (err as Error).message;
  }
  return {
    district: name,
    at: new Date(now).toISOString(),
    devices: { total: devices.length, byFamily },
    openAlarms: input.openAlarms(name),
    means: {
      source: source.name,
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      byFamily: means,
      ...(error ? { error } : {}),
    },
  };
}
