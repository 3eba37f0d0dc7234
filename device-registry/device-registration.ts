import { findFirmware, type ModelSpec } from '../firmware-specs/define-device.ts';
import type { Device, NewDevice, RowProblem } from './device-types.ts';
import { newDevice } from './device-types.ts';
import {
  DeviceDecommissionedError,
  DeviceExistsError,
  FirmwareUnsupportedError,
  ModbusConfigError,
  ModelNotFoundError,
} from './errors.ts';
import { generateSecrets, hashGeneratedSecret } from './secrets.ts';

export type ImportRows = ReadonlyArray<{ line: number; input: NewDevice }>;
export type Problems = Array<{ line: number; problem: RowProblem }>;

/** A checked row made into a record, its secret (shown once) and the hash to store. */
export interface Made {
  line: number;
  input: NewDevice;
  device: Device;
  secret: string | null;
  hash: string | null;
}

/** The first reason `input` cannot be registered (model, firmware, Modbus, id taken), or null. */
export function checkNew(
  specs: ReadonlyMap<string, ModelSpec>,
  existing: Device | undefined,
  input: NewDevice,
): RowProblem | null {
  const spec = specs.get(input.model);
  if (!spec) return { field: 'model', error: new ModelNotFoundError(input.model) };
  if (!findFirmware(spec, input.firmware))
    return {
      field: 'firmware',
      error: new FirmwareUnsupportedError(input.model, input.firmware, Object.keys(spec.firmware).join(', ')),
    };
  if (spec.modbus && !input.modbus)
    return {
      field: 'modbus',
      error: new ModbusConfigError(
        `model ${input.model} is a Modbus device: modbus {host, port, unitId} is required`,
      ),
    };
  if (!spec.modbus && input.modbus)
    return {
      field: 'modbus',
      error: new ModbusConfigError(`model ${input.model} is not a Modbus device: modbus must be absent`),
    };
  if (existing?.decommissionedAt)
    return {
      field: 'id',
      error: new DeviceDecommissionedError(input.id, new Date(existing.decommissionedAt).toISOString()),
    };
  if (existing) return { field: 'id', error: new DeviceExistsError(input.id) };
  return null;
}

/** The rows' problems (those of register(), and ids repeated in the batch), and the valid rows. */
export function checkImport(
  rows: ImportRows,
  checkOne: (input: NewDevice) => RowProblem | null,
): { valid: NewDevice[]; problems: Problems } {
  const problems: Problems = [];
  const firstLine = new Map<string, number>();
  const valid: NewDevice[] = [];
  for (const { line, input } of rows) {
    const seen = firstLine.get(input.id);
    const problem: RowProblem | null =
      seen !== undefined
        ? { field: 'id', error: new DeviceExistsError(`${input.id} (line ${seen} of this import)`) }
        : checkOne(input);
    firstLine.set(input.id, seen ?? line);
    if (problem) problems.push({ line, problem });
    else valid.push(input);
  }
  return { valid, problems };
}

/** New records with their secrets (MQTT models) and the hashes to store; nothing written yet. */
export function makeDevices(specs: ReadonlyMap<string, ModelSpec>, rows: ImportRows, now: number): Made[] {
  const secrets = generateSecrets(rows.length);
  return rows.map(({ line, input }, i) => {
    const spec = specs.get(input.model)!;
    const secret = spec.modbus ? null : secrets[i];
    return {
      line,
      input,
      device: newDevice(input, spec.family, now),
      secret,
      hash: secret ? hashGeneratedSecret(secret) : null,
    };
  });
}
