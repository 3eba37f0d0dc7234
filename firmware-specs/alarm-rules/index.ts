import type { Family } from '../families.ts';
import airQuality from './air_quality.ts';
import type { AlarmRule } from './define-rules.ts';
import electricityMeter from './electricity_meter.ts';
import streetlight from './streetlight.ts';
import waterStation from './water_station.ts';

/** The default alarm rules of each family (one file per family, next to the models). */
export const defaultRuleSets: Record<Family, readonly AlarmRule[]> = {
  streetlight,
  water_station: waterStation,
  air_quality: airQuality,
  electricity_meter: electricityMeter,
};
