import { readNow, setRelay } from '../commands.ts';
import { defineDevice, type ModbusMap } from '../define-device.ts';
import { modbusLayout } from '../modbus-layout.ts';

// Sonmetrix SMX-630MB three-phase meter, polled over Modbus TCP through a gateway. Its input
// registers follow the widespread SDM630 map (float32, big-endian, 0-based addresses):
// 0x002A average line-to-neutral voltage, 0x0030 sum of line currents, 0x0034 total system
// power, 0x003E total power factor, 0x0046 frequency. The import energy is an extra uint64 Wh
// counter at 0x0180, so it never loses resolution the way a float32 kWh register does past
// 100,000 kWh. The disconnect relay is coil 0.
const map: ModbusMap = {
  order: 'ABCD',
  pollIntervalMs: 15_000,
  registers: {
    voltage_v: { table: 'input', address: 0x002a, type: 'float32' },
    current_a: { table: 'input', address: 0x0030, type: 'float32' },
    power_w: { table: 'input', address: 0x0034, type: 'float32' },
    power_factor: { table: 'input', address: 0x003e, type: 'float32' },
    frequency_hz: { table: 'input', address: 0x0046, type: 'float32' },
    energy_kwh: { table: 'input', address: 0x0180, type: 'uint64', scale: 0.001 },
    relay_closed: { table: 'coil', address: 0, type: 'bool' },
  },
};

const example = {
  voltage_v: 229.8,
  current_a: 31.2,
  power_w: 6840.5,
  power_factor: 0.95,
  frequency_hz: 50.02,
  energy_kwh: 184502.317,
  relay_closed: true,
};

export default defineDevice({
  family: 'electricity_meter',
  vendor: 'Sonmetrix',
  model: 'SMX-630MB',
  description: 'Three-phase 4-wire 100 A meter with relay, Modbus TCP',
  // 3 x 100 A at 230 V line-to-neutral; the uint64 Wh counter's wrap comes from the map.
  ratedPowerW: 3 * 100 * 230,
  // The register map is the same in every released firmware; the ranges let the registry
  // record which one a meter runs.
  firmware: {
    '1.x': { telemetry: modbusLayout(map), example },
    '2.x': { telemetry: modbusLayout(map), example: { ...example, energy_kwh: 201377.045 } },
  },
  commands: {
    setRelay: setRelay({ register: map.registers.relay_closed, value: (p: { closed: boolean }) => p.closed }),
    readNow: readNow(),
  },
  modbus: map,
});
