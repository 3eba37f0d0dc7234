import { isShelved, live } from './live.ts';
import { SEVERITIES, type Severity } from './types.ts';

export interface Counts {
  devices: number;
  online: number;
  offline: number;
  disabled: number;
}

export type Health = 'ok' | 'degraded' | 'alarm' | 'critical' | 'empty';

export interface DistrictStats extends Counts {
  index: number;
  name: string;
  /** Devices with an open, unshelved alarm. */
  alarmed: number;
  /** 0 critical … 3 warning; -1 none. */
  worst: number;
  health: Health;
}

const zero = (): Counts => ({ devices: 0, online: 0, offline: 0, disabled: 0 });
const KEYS = ['online', 'offline', 'disabled'] as const;

/**
 * Counts from the live device columns, for the whole city or one district: one pass over the
 * devices, cheap enough for every frame with 10,000 of them.
 */
export function cityStats(district: number | null) {
  const city = live.city;
  const perFamily = new Map<string, Counts>();
  const total = zero();
  const districts: DistrictStats[] = (city?.districts ?? []).map((d, index) => ({
    index,
    name: d.name,
    ...zero(),
    alarmed: 0,
    worst: -1,
    health: 'empty',
  }));
  if (city) {
    for (const f of city.families) perFamily.set(f, zero());
    for (let i = 0; i < city.ids.length; i++) {
      const key = KEYS[city.status[i]];
      const ds = districts[city.district[i]];
      ds.devices++;
      ds[key]++;
      const alarm = city.alarm[i];
      if (alarm >= 0) {
        ds.alarmed++;
        if (ds.worst < 0 || alarm < ds.worst) ds.worst = alarm;
      }
      if (district !== null && city.district[i] !== district) continue;
      const fc = perFamily.get(city.families[city.family[i]])!;
      fc.devices++;
      fc[key]++;
      total.devices++;
      total[key]++;
    }
  }
  for (const d of districts) d.health = healthOf(d);
  const districtName = district === null ? null : (city?.districts[district]?.name ?? null);
  const alarms = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const a of live.alarms.values())
    if (!isShelved(a) && (districtName === null || a.district === districtName)) alarms[a.severity]++;
  return { total, perFamily, districts, alarms };
}

function healthOf(d: DistrictStats): Health {
  if (!d.devices) return 'empty';
  if (d.worst === 0) return 'critical';
  if (d.worst > 0) return 'alarm';
  // More than a tenth of the enabled devices away is worth a look.
  if (d.offline > 0.1 * (d.online + d.offline)) return 'degraded';
  return 'ok';
}
