import { readNow, setRelay } from '../commands.ts';
import { defineDevice } from '../define-device.ts';
import { flag, layout, numeric } from '../traits.ts';

// Mekong Metering MK-1P single-phase meter. It keeps energy as a float kWh register. 3.x
// reports active power in kW and calls the power factor cos phi; 4.x nests the registers the
// way its DLMS/COSEM object list does (meter, grid) and reports power in W.
export default defineDevice({
  family: 'electricity_meter',
  vendor: 'Mekong Metering',
  model: 'MK-1P',
  description: 'Single-phase meter with latching relay, MQTT over 4G',
  reportIntervalSeconds: 300,
  // Rated 10(80) A at 230 V. Its float kWh register loses resolution but does not wrap.
  ratedPowerW: 80 * 230,
  firmware: {
    '3.x': {
      telemetry: layout({
        kwh: numeric('energy_kwh', { min: 0 }),
        p_kw: numeric('power_w', { scale: 1000 }),
        u: numeric('voltage_v', { min: 0 }),
        i: numeric('current_a'),
        cosphi: numeric('power_factor', { min: -1, max: 1 }),
        f: numeric('frequency_hz', { min: 0 }),
        relay: flag('relay_closed'),
      }),
      example: { kwh: 8421.37, p_kw: 2.35, u: 228.7, i: 10.4, cosphi: 0.97, f: 49.98, relay: true },
    },
    '4.x': {
      telemetry: layout({
        'meter.energy.total_kwh': numeric('energy_kwh', { min: 0 }),
        'grid.p': numeric('power_w'),
        'grid.v': numeric('voltage_v', { min: 0 }),
        'grid.i': numeric('current_a'),
        'grid.pf': numeric('power_factor', { min: -1, max: 1 }),
        'grid.f': numeric('frequency_hz', { min: 0 }),
        'meter.relay.closed': flag('relay_closed'),
      }),
      example: {
        meter: { energy: { total_kwh: 8433.912 }, relay: { closed: true } },
        grid: { p: 2350, v: 228.7, i: 10.4, pf: 0.97, f: 49.98 },
      },
    },
  },
  commands: { setRelay: setRelay(), readNow: readNow() },
});
