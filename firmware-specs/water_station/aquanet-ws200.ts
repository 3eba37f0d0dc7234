import { setValve } from '../commands.ts';
import { defineDevice } from '../define-device.ts';
import { layout, numeric } from '../traits.ts';

// AquaNet WS-200 district metering station (flow meter, pressure transmitter, water quality
// probe, motorised valve) with an MQTT RTU. It reports pressure in kPa on every firmware
// (100 kPa = 1 bar). 1.x sends flow in L/s (1 L/s = 3.6 m3/h) and the totaliser in whole
// litres; 2.x sends m3/h and m3 and leaves out the quality block when no probe is fitted.
export default defineDevice({
  family: 'water_station',
  vendor: 'AquaNet',
  model: 'WS-200',
  description: 'District metering area station, MQTT RTU',
  reportIntervalSeconds: 60,
  firmware: {
    '1.x': {
      telemetry: layout({
        q_ls: numeric('flow_m3h', { scale: 3.6 }),
        p_kpa: numeric('pressure_bar', { scale: 0.01 }),
        vol_l: numeric('total_volume_m3', { int: true, min: 0, scale: 0.001 }),
        ntu: numeric('turbidity_ntu', { min: 0 }),
        cl: numeric('chlorine_mgl', { min: 0 }),
        ph: numeric('ph', { min: 0, max: 14 }),
        valve: numeric('valve_percent', { int: true, min: 0, max: 100 }),
      }),
      example: { q_ls: 12.5, p_kpa: 315, vol_l: 48213570, ntu: 0.42, cl: 0.55, ph: 7.2, valve: 80 },
    },
    '2.x': {
      telemetry: layout({
        'hyd.q_m3h': numeric('flow_m3h'),
        'hyd.p_kpa': numeric('pressure_bar', { scale: 0.01 }),
        'hyd.vol_m3': numeric('total_volume_m3', { min: 0 }),
        'wq.turb': numeric('turbidity_ntu', { min: 0, optional: true }),
        'wq.cl2': numeric('chlorine_mgl', { min: 0, optional: true }),
        'wq.ph': numeric('ph', { min: 0, max: 14, optional: true }),
        'valve.pos': numeric('valve_percent', { min: 0, max: 100 }),
      }),
      example: {
        hyd: { q_m3h: 45.2, p_kpa: 312.5, vol_m3: 48260.118 },
        wq: { turb: 0.4, cl2: 0.52, ph: 7.15 },
        valve: { pos: 80 },
      },
    },
  },
  commands: { setValve: setValve() },
});
