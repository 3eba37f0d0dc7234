import { otaUpdate, readNow, setRelay } from '../commands.ts';
import { defineDevice } from '../define-device.ts';
import { flag, layout, numeric } from '../traits.ts';

// VinaSmart EM-310 single-phase smart meter with a disconnect relay. Every firmware counts
// imported energy as an integer Wh register, which the mapping turns into kWh. 1.x sends
// flat keys with voltage in decivolts and frequency in centihertz; 2.x groups the
// instantaneous values and reports them in plain units.
export default defineDevice({
  family: 'electricity_meter',
  vendor: 'VinaSmart',
  model: 'EM-310',
  description: 'Single-phase 5(60) A meter with relay, MQTT over NB-IoT',
  reportIntervalSeconds: 900,
  // 5(60) A (IEC 62052-11 marking: basic (maximum) current) at 230 V.
  ratedPowerW: 60 * 230,
  // The Wh register is a uint32: it wraps to 0 after 2^32 - 1 Wh.
  counters: { energy_kwh: { max: (2 ** 32 - 1) / 1000 } },
  firmware: {
    '1.x': {
      telemetry: layout({
        wh: numeric('energy_kwh', { int: true, min: 0, scale: 0.001 }),
        w: numeric('power_w'),
        dv: numeric('voltage_v', { int: true, min: 0, scale: 0.1 }),
        a: numeric('current_a'),
        pf: numeric('power_factor', { min: -1, max: 1 }),
        chz: numeric('frequency_hz', { int: true, min: 0, scale: 0.01 }),
        rly: flag('relay_closed', { as: 'int' }),
      }),
      example: { wh: 12345678, w: 1520, dv: 2301, a: 6.61, pf: 0.96, chz: 5001, rly: 1 },
    },
    '2.x': {
      telemetry: layout({
        'energy.import_wh': numeric('energy_kwh', { int: true, min: 0, scale: 0.001 }),
        'inst.p_w': numeric('power_w'),
        'inst.u_v': numeric('voltage_v', { min: 0 }),
        'inst.i_a': numeric('current_a'),
        'inst.pf': numeric('power_factor', { min: -1, max: 1, optional: true }),
        'inst.f_hz': numeric('frequency_hz', { min: 0 }),
        relay: flag('relay_closed', { as: 'onoff' }),
      }),
      example: {
        energy: { import_wh: 12349021 },
        inst: { p_w: 1488.2, u_v: 229.6, i_a: 6.52, pf: 0.97, f_hz: 49.98 },
        relay: 'ON',
        rssi: -87,
      },
    },
  },
  commands: { setRelay: setRelay(), readNow: readNow(), otaUpdate: otaUpdate() },
});
