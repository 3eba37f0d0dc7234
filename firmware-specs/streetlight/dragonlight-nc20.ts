import { otaUpdate, setDimming, switchLamp } from '../commands.ts';
import { defineDevice } from '../define-device.ts';
import { flag, layout, numeric } from '../traits.ts';

// DragonLight NC-20 NEMA socket controller for LED luminaires. 1.x reports the dimming
// level in per mille and the burn time in minutes; 2.x splits status and metering and
// sends the fault block only while a fault is raised.
export default defineDevice({
  family: 'streetlight',
  vendor: 'DragonLight',
  model: 'NC-20',
  description: 'NEMA 7-pin controller with 0-10 V / DALI driver output, LoRaWAN-to-MQTT',
  reportIntervalSeconds: 300,
  firmware: {
    '1.x': {
      telemetry: layout({
        lamp: flag('lamp_on', { as: 'int' }),
        lvl_pm: numeric('dim_percent', { int: true, min: 0, max: 1000, scale: 0.1 }),
        pw: numeric('lamp_power_w', { min: 0 }),
        lux: numeric('ambient_lux', { min: 0 }),
        burn_min: numeric('burn_hours', { int: true, min: 0, scale: 1 / 60 }),
        fault: numeric('fault_code', { int: true, min: 0, optional: true }),
      }),
      example: { lamp: 1, lvl_pm: 700, pw: 62.1, lux: 2.4, burn_min: 624750, fault: 0 },
    },
    '2.x': {
      telemetry: layout({
        'status.lamp': flag('lamp_on', { as: 'onoff' }),
        'status.dim': numeric('dim_percent', { min: 0, max: 100 }),
        'metering.w': numeric('lamp_power_w', { min: 0 }),
        'metering.lux': numeric('ambient_lux', { min: 0 }),
        'metering.burn_h': numeric('burn_hours', { min: 0 }),
        'alarm.code': numeric('fault_code', { int: true, min: 0, optional: true }),
      }),
      example: {
        status: { lamp: 'ON', dim: 70 },
        metering: { w: 62.1, lux: 2.4, burn_h: 10412.75 },
        alarm: { code: 4 },
      },
    },
  },
  commands: { setDimming: setDimming(), switchLamp: switchLamp(), otaUpdate: otaUpdate() },
});
