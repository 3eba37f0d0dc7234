import { offline } from './common.ts';
import { defineRules } from './define-rules.ts';

// Air: QCVN 05:2023/BTNMT (national technical regulation on ambient air quality) limits PM2.5
// to 50 ug/m3 as a 24-hour mean. The VN_AQI of Decision 1459/QD-TCMT (2019) bands the index
// 0-50 good, 51-100 moderate, 101-150 poor, 151-200 bad, 201-300 very bad, 301-500 hazardous;
// its PM2.5 breakpoints put index 150 at 80 ug/m3 and 200 at 150 ug/m3. A 60-minute moving mean
// stands in for the hourly index (the decision weights the last 12 hours, NowCast style), so a
// rush-hour episode opens a band alarm and it clears when the hour's air is better again.
export default defineRules('air_quality', [
  {
    id: 'pm25_24h_limit',
    severity: 'warning',
    description: 'PM2.5 24-hour mean above the national limit',
    condition: { field: 'pm25_ugm3', op: '>', param: 'limit', meanOver: 'windowMinutes' },
    params: { limit: 50, windowMinutes: 1440 },
    deadband: 5,
    onDelaySeconds: 0,
    offDelaySeconds: 3600,
    message: 'PM2.5 {windowMinutes}-minute mean {value} {unit} above {limit} {unit}',
    source: 'QCVN 05:2023/BTNMT: PM2.5 24-hour mean <= 50 ug/m3',
  },
  {
    id: 'aqi_bad',
    severity: 'major',
    description: 'PM2.5 in the VN_AQI "bad" band (151-200) or worse over an hour',
    condition: { field: 'pm25_ugm3', op: '>', param: 'limit', meanOver: 'windowMinutes' },
    params: { limit: 80, windowMinutes: 60 },
    deadband: 5,
    onDelaySeconds: 600,
    offDelaySeconds: 600,
    message: 'PM2.5 {windowMinutes}-minute mean {value} {unit} above {limit} {unit}: VN_AQI above 150 (bad)',
    source: 'Decision 1459/QD-TCMT VN_AQI: PM2.5 breakpoint 80 ug/m3 at index 150',
  },
  {
    id: 'aqi_very_bad',
    severity: 'critical',
    description: 'PM2.5 in the VN_AQI "very bad" band (201-300) or worse over an hour',
    condition: { field: 'pm25_ugm3', op: '>', param: 'limit', meanOver: 'windowMinutes' },
    params: { limit: 150, windowMinutes: 60 },
    deadband: 10,
    onDelaySeconds: 600,
    offDelaySeconds: 600,
    message:
      'PM2.5 {windowMinutes}-minute mean {value} {unit} above {limit} {unit}: VN_AQI above 200 (very bad)',
    source: 'Decision 1459/QD-TCMT VN_AQI: PM2.5 breakpoint 150 ug/m3 at index 200',
  },
  offline(),
]);
