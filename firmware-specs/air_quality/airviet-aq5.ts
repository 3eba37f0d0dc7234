import { setReportInterval } from '../commands.ts';
import { defineDevice } from '../define-device.ts';
import { layout, numeric } from '../traits.ts';

// AirViet AQ-5 roadside monitor. Gases other than CO come in ug/m3. 1.x reports CO in ppb,
// converted at 25 °C and 1 atm (1 ppb CO = 1.145 ug/m3 = 0.001145 mg/m3), and temperature
// as an unsigned integer of tenths of a degree above -40 °C. 2.x groups the values and
// reports CO in ug/m3 and temperature in °C.
export default defineDevice({
  family: 'air_quality',
  vendor: 'AirViet',
  model: 'AQ-5',
  description: 'Roadside PM and gas monitor (electrochemical cells), MQTT over 4G',
  reportIntervalSeconds: 60,
  firmware: {
    '1.x': {
      telemetry: layout({
        pm25: numeric('pm25_ugm3', { min: 0 }),
        pm10: numeric('pm10_ugm3', { min: 0 }),
        no2: numeric('no2_ugm3', { min: 0 }),
        o3: numeric('o3_ugm3', { min: 0 }),
        co_ppb: numeric('co_mgm3', { int: true, min: 0, scale: 0.001145 }),
        so2: numeric('so2_ugm3', { min: 0 }),
        t_dk: numeric('temperature_c', { int: true, min: 0, scale: 0.1, offset: -40 }),
        rh: numeric('humidity_pct', { min: 0, max: 100 }),
      }),
      example: { pm25: 38.2, pm10: 61.5, no2: 42, o3: 55.3, co_ppb: 720, so2: 8.1, t_dk: 652, rh: 78.5 },
    },
    '2.x': {
      telemetry: layout({
        'pm.p25': numeric('pm25_ugm3', { min: 0 }),
        'pm.p10': numeric('pm10_ugm3', { min: 0 }),
        'gas.no2': numeric('no2_ugm3', { min: 0 }),
        'gas.o3': numeric('o3_ugm3', { min: 0 }),
        'gas.co': numeric('co_mgm3', { min: 0, scale: 0.001 }),
        'gas.so2': numeric('so2_ugm3', { min: 0 }),
        'env.t': numeric('temperature_c', { min: -40, max: 80 }),
        'env.rh': numeric('humidity_pct', { min: 0, max: 100 }),
      }),
      example: {
        pm: { p25: 38.2, p10: 61.5 },
        gas: { no2: 42, o3: 55.3, co: 824.4, so2: 8.1 },
        env: { t: 25.2, rh: 78.5 },
      },
    },
  },
  commands: { setReportInterval: setReportInterval() },
});
