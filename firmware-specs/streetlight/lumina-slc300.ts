import { otaUpdate, setDimming, switchLamp } from '../commands.ts';
import { defineDevice } from '../define-device.ts';
import { flag, layout, numeric } from '../traits.ts';

// Lumina SLC-300 node controller. 1.x sends short keys; 2.x nests the driver block and
// reports lamp power in deciwatts; 3.x (over the air, issue 12) groups by lamp and sensor and
// reports power in milliwatts and burn time in seconds.
export default defineDevice({
  family: 'streetlight',
  vendor: 'Lumina',
  model: 'SLC-300',
  reportIntervalSeconds: 60,
  firmware: {
    '1.x': {
      telemetry: layout({
        on: flag('lamp_on'),
        dim: numeric('dim_percent', { int: true, min: 0, max: 100 }),
        p: numeric('lamp_power_w', { min: 0 }),
        lux: numeric('ambient_lux', { min: 0 }),
        hrs: numeric('burn_hours', { min: 0 }),
        err: numeric('fault_code', { int: true, min: 0, optional: true }),
      }),
      example: { on: true, dim: 70, p: 84.5, lux: 3.2, hrs: 10412.5, err: 0 },
    },
    '2.x': {
      telemetry: layout({
        'drv.state': flag('lamp_on', { as: 'onoff' }),
        'drv.level': numeric('dim_percent', { int: true, min: 0, max: 100 }),
        'drv.power_dw': numeric('lamp_power_w', { int: true, min: 0, scale: 0.1 }),
        'env.lux': numeric('ambient_lux', { min: 0 }),
        'drv.hours': numeric('burn_hours', { min: 0 }),
        fault: numeric('fault_code', { int: true, min: 0, optional: true }),
      }),
      example: {
        drv: { state: 'ON', level: 70, power_dw: 845, hours: 10412.5 },
        env: { lux: 3.2 },
        fault: 0,
      },
    },
    '3.x': {
      telemetry: layout({
        'lamp.on': flag('lamp_on', { as: 'int' }),
        'lamp.level_pct': numeric('dim_percent', { int: true, min: 0, max: 100 }),
        'lamp.power_mw': numeric('lamp_power_w', { int: true, min: 0, scale: 0.001 }),
        'lamp.burn_s': numeric('burn_hours', { int: true, min: 0, scale: 1 / 3600 }),
        'sensor.lux': numeric('ambient_lux', { min: 0 }),
        'diag.fault': numeric('fault_code', { int: true, min: 0, optional: true }),
      }),
      example: {
        lamp: { on: 1, level_pct: 70, power_mw: 84500, burn_s: 37484999 },
        sensor: { lux: 3.2 },
        diag: { fault: 0 },
      },
    },
  },
  commands: { setDimming: setDimming(), switchLamp: switchLamp(), otaUpdate: otaUpdate() },
});
