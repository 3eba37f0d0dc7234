import { setValve } from '../commands.ts';
import { defineDevice, type ModbusMap } from '../define-device.ts';
import { modbusLayout } from '../modbus-layout.ts';

// Hydrotek PS-500 booster pump station PLC, polled over Modbus TCP. Its PLC stores 32-bit
// values low word first (CDAB) while 16-bit analogue values are hundredths; the valve
// position is a holding register in tenths of a percent that the station also accepts as its
// set point. Addresses are 0-based.
const map: ModbusMap = {
  order: 'ABCD',
  pollIntervalMs: 10_000,
  registers: {
    flow_m3h: { table: 'input', address: 0, type: 'float32', order: 'CDAB' },
    pressure_bar: { table: 'input', address: 2, type: 'int16', scale: 0.01 },
    total_volume_m3: { table: 'input', address: 10, type: 'uint32', order: 'CDAB', scale: 0.1 },
    turbidity_ntu: { table: 'input', address: 20, type: 'int16', scale: 0.01 },
    chlorine_mgl: { table: 'input', address: 21, type: 'int16', scale: 0.01 },
    ph: { table: 'input', address: 22, type: 'int16', scale: 0.01 },
    valve_percent: { table: 'holding', address: 100, type: 'uint16', scale: 0.1 },
  },
};

const example = {
  flow_m3h: 182.4,
  pressure_bar: 3.85,
  total_volume_m3: 1520348.6,
  turbidity_ntu: 0.35,
  chlorine_mgl: 0.48,
  ph: 7.12,
  valve_percent: 75.5,
};

export default defineDevice({
  family: 'water_station',
  vendor: 'Hydrotek',
  model: 'PS-500',
  description: 'Booster pump station PLC with quality probes and a modulating valve, Modbus TCP',
  // The register map is the same in every released firmware; the ranges let the registry
  // record which one a station runs.
  firmware: {
    '3.x': { telemetry: modbusLayout(map), example },
    '4.x': { telemetry: modbusLayout(map), example: { ...example, valve_percent: 60 } },
  },
  commands: {
    // The station's valve actuator takes about 40 s end to end.
    setValve: setValve({
      minIntervalSeconds: 60,
      modbus: { register: map.registers.valve_percent, value: (p: { percent: number }) => p.percent },
    }),
  },
  modbus: map,
});
