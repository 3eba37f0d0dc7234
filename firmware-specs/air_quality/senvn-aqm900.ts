import { setReportInterval } from '../commands.ts';
import { defineDevice } from '../define-device.ts';
import { layout, numeric } from '../traits.ts';

// SenVN AQM-900 reference-grade station. It reports gases as mixing ratios, which the
// mapping converts to mass concentrations at 25 °C and 1 atm (WHO/EEA convention):
// 1 ppb NO2 = 1.88 ug/m3, O3 = 1.96 ug/m3, SO2 = 2.62 ug/m3, 1 ppm CO = 1.145 mg/m3.
// 1.x uses the analyser's own upper-case keys; 2.x nests them and drops SO2 when that
// analyser is not fitted.
export default defineDevice({
  family: 'air_quality',
  vendor: 'SenVN',
  model: 'AQM-900',
  description: 'Reference-grade air quality station (chemiluminescence NOx, UV O3, NDIR CO)',
  reportIntervalSeconds: 300,
  firmware: {
    '1.x': {
      telemetry: layout({
        PM2_5: numeric('pm25_ugm3', { min: 0 }),
        PM10: numeric('pm10_ugm3', { min: 0 }),
        NO2_PPB: numeric('no2_ugm3', { min: 0, scale: 1.88 }),
        O3_PPB: numeric('o3_ugm3', { min: 0, scale: 1.96 }),
        CO_PPM: numeric('co_mgm3', { min: 0, scale: 1.145 }),
        SO2_PPB: numeric('so2_ugm3', { min: 0, scale: 2.62 }),
        TEMP: numeric('temperature_c', { min: -40, max: 80 }),
        RH: numeric('humidity_pct', { min: 0, max: 100 }),
      }),
      example: {
        PM2_5: 41,
        PM10: 70,
        NO2_PPB: 22,
        O3_PPB: 28,
        CO_PPM: 0.72,
        SO2_PPB: 3,
        TEMP: 29.4,
        RH: 81,
      },
    },
    '2.x': {
      telemetry: layout({
        'aq.pm25': numeric('pm25_ugm3', { min: 0 }),
        'aq.pm10': numeric('pm10_ugm3', { min: 0 }),
        'aq.no2_ppb': numeric('no2_ugm3', { min: 0, scale: 1.88 }),
        'aq.o3_ppb': numeric('o3_ugm3', { min: 0, scale: 1.96 }),
        'aq.co_ppm': numeric('co_mgm3', { min: 0, scale: 1.145 }),
        'aq.so2_ppb': numeric('so2_ugm3', { min: 0, scale: 2.62, optional: true }),
        'met.temp_c': numeric('temperature_c', { min: -40, max: 80 }),
        'met.rh_pct': numeric('humidity_pct', { min: 0, max: 100 }),
      }),
      example: {
        aq: { pm25: 41, pm10: 70, no2_ppb: 22, o3_ppb: 28, co_ppm: 0.72 },
        met: { temp_c: 29.4, rh_pct: 81 },
      },
    },
  },
  commands: { setReportInterval: setReportInterval() },
});
