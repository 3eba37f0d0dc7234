import type { ModbusMap } from './define-device.ts';
import { flag, layout, numeric, type TelemetryLayout } from './traits.ts';

const INTEGER_TYPES = new Set(['int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64']);

/**
 * The telemetry layout of a Modbus model. The adapter decodes and scales the registers itself
 * (adapters/modbus/register-codec.ts), so what it hands to ingest is already canonical:
 * `{ voltage_v: 230.4, relay_closed: true }`. This layout passes such an object through,
 * checking each mapped field, so a Modbus spec declares its fields once, in its register map.
 */
export function modbusLayout(map: ModbusMap): TelemetryLayout {
  return layout(
    Object.fromEntries(
      Object.entries(map.registers).map(([field, def]) => {
        if (def.type === 'bool') return [field, flag(field)];
        const unscaled = (def.scale ?? 1) === 1 && (def.offset ?? 0) === 0;
        return [field, numeric(field, { int: unscaled && INTEGER_TYPES.has(def.type) })];
      }),
    ),
  );
}
