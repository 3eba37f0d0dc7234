import type { z } from 'zod';
import { FAMILIES, type Family, familySchemas } from './families.ts';
import type { TelemetryLayout } from './traits.ts';

export const REGISTER_TABLES = ['coil', 'discrete', 'holding', 'input'] as const;
export type RegisterTable = (typeof REGISTER_TABLES)[number];
export const REGISTER_TYPES = [
  'bool',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'float32',
  'float64',
  'int64',
  'uint64',
] as const;
export type RegisterType = (typeof REGISTER_TYPES)[number];
/** Byte order within the value, A the most significant byte (Modbus default is ABCD, big-endian). */
export const BYTE_ORDERS = ['ABCD', 'DCBA', 'BADC', 'CDAB'] as const;
export type ByteOrder = (typeof BYTE_ORDERS)[number];

export interface RegisterDef {
  table: RegisterTable;
  address: number;
  type: RegisterType;
  /** Defaults to the map's order. */
  order?: ByteOrder;
  /** canonical = raw * scale + offset */
  scale?: number;
  offset?: number;
}

export interface ModbusMap {
  /** Default byte/word order of multi-register values. */
  order: ByteOrder;
  pollIntervalMs: number;
  /** canonical field -> register */
  registers: Record<string, RegisterDef>;
}

export interface ModbusWrite {
  /** Register (coil or holding) the command writes; read back to confirm. */
  register: RegisterDef;
  /**
   * The canonical value to write (e.g. 75.5 for a valve at 75.5 %, not the raw 755): the adapter
   * applies the register's scale and offset (adapters/modbus/register-codec.ts encodeRegisters).
   */
  value(params: any): number | boolean;
}

export const COMMAND_MODES = { state: 'state', action: 'action' } as const;
export type CommandMode = keyof typeof COMMAND_MODES;

export interface CommandGuards {
  /** The command may run at most once per this many seconds per device (e.g. a valve). */
  minIntervalSeconds?: number;
  /**
   * When every param named here has the value given, the request must carry `confirm: true`
   * (e.g. `{ closed: false }`: opening a relay). Data, not a function, so that a client (the
   * dashboard's command form) can show the confirmation step before it sends.
   */
  confirmWhen?: Record<string, string | number | boolean>;
}

export interface CommandSpec<P extends z.ZodType = z.ZodType> {
  mode: CommandMode;
  params: P;
  example: z.input<P>;
  /** An example the params schema must reject; the spec tests check it. */
  badExample: unknown;
  /** State commands: the desired state (canonical fields) the params ask for. */
  desired?(params: z.output<P>): Record<string, unknown>;
  guards?: CommandGuards;
  modbus?: ModbusWrite;
  description?: string;
  /**
   * Checks a reply of `{"ok":true}` against the params; a message makes the command `failed`
   * (an OTA update whose device came back on its old firmware did not succeed).
   */
  verifyResult?(params: any, result: Record<string, unknown>): string | undefined;
}

export interface FirmwareSpec {
  telemetry: TelemetryLayout;
  /** A raw telemetry payload of this firmware, as the device sends it. */
  example: Record<string, unknown>;
}

export interface DeviceSpecInput<F extends Family = Family> {
  family: F;
  vendor: string;
  model: string;
  description?: string;
  /** Firmware version patterns: exact `1.4.2`, or ranges `1.x`, `2.1.x`. */
  firmware: Record<string, FirmwareSpec>;
  commands: Record<string, CommandSpec>;
  modbus?: ModbusMap;
  /** Telemetry period of the real device, for simulators and staleness. */
  reportIntervalSeconds?: number;
  /** Meters: the most power the meter can measure (max current x nominal voltage x phases). */
  ratedPowerW?: number;
  /**
   * Cumulative fields' register limits for counter sanity (gateway/alarms/counter-sanity.ts):
   * `max` is the largest value the register holds (the next count wraps to 0), in canonical
   * units. A Modbus map's integer registers yield it without this.
   */
  counters?: Record<string, { max?: number }>;
}

export interface DeviceSpec<F extends Family = Family> extends DeviceSpecInput<F> {
  readonly kind: 'device-spec';
}

export function defineDevice<F extends Family>(input: DeviceSpecInput<F>): DeviceSpec<F> {
  return { ...input, kind: 'device-spec' };
}

/** Loaded spec with its id (the file name, `lumina-slc300`). */
export interface ModelSpec<F extends Family = Family> extends DeviceSpec<F> {
  readonly id: string;
}

const VERSION_PATTERN = /^\d+(\.\d+){0,2}(\.x)?$|^\d+\.x$/;

export function firmwarePatternMatches(pattern: string, version: string): boolean {
  if (!pattern.endsWith('.x')) return pattern === version;
  const prefix = pattern.slice(0, -1); // '1.' from '1.x'
  return version.startsWith(prefix);
}

/** Two patterns overlap when some version matches both. */
export function firmwarePatternsOverlap(a: string, b: string): boolean {
  const stem = (p: string) => (p.endsWith('.x') ? p.slice(0, -1) : `${p}.`);
  const sa = stem(a);
  const sb = stem(b);
  return sa.startsWith(sb) || sb.startsWith(sa);
}

/**
 * The command a name given by a client or a device refers to. Own entries only: `toString` or
 * `__proto__` name no command, they are not looked up on Object.prototype.
 */
export function findCommand(spec: DeviceSpec, name: string): CommandSpec | undefined {
  return Object.hasOwn(spec.commands, name) ? spec.commands[name] : undefined;
}

export function findFirmware(spec: DeviceSpec, version: string): FirmwareSpec | undefined {
  for (const [pattern, fw] of Object.entries(spec.firmware)) {
    if (firmwarePatternMatches(pattern, version)) return fw;
  }
  return undefined;
}

/** True when the params ask for what the command's `confirmWhen` guard names. */
export function needsConfirm(cmd: CommandSpec, params: Record<string, unknown>): boolean {
  const when = cmd.guards?.confirmWhen;
  return when !== undefined && Object.entries(when).every(([k, v]) => params[k] === v);
}

/** Register width in 16-bit words (coils and discrete inputs: one bit). */
export function registerWords(type: RegisterType): number {
  switch (type) {
    case 'bool':
    case 'int16':
    case 'uint16':
      return 1;
    case 'int32':
    case 'uint32':
    case 'float32':
      return 2;
    default:
      return 4;
  }
}

/**
 * Checks a spec's invariants; returns the problems (empty when sound). The loader refuses a
 * spec with problems, naming the file and each problem.
 */
export function validateSpec(spec: DeviceSpec): string[] {
  const problems: string[] = [];
  if (spec.kind !== 'device-spec') return ['the default export is not a defineDevice({...})'];
  if (!FAMILIES.includes(spec.family)) problems.push(`unknown family "${spec.family}"`);
  const canonical = familySchemas[spec.family];
  const patterns = Object.keys(spec.firmware);
  if (patterns.length === 0) problems.push('no firmware versions');
  patterns.forEach((p, i) => {
    if (!VERSION_PATTERN.test(p)) problems.push(`firmware "${p}": not a version or a range like 1.x`);
    for (const q of patterns.slice(i + 1)) {
      if (firmwarePatternsOverlap(p, q)) problems.push(`firmware "${p}" and "${q}" overlap`);
    }
  });
  for (const [p, fw] of Object.entries(spec.firmware)) {
    const parsed = fw.telemetry.schema.safeParse(fw.example);
    if (!parsed.success) {
      problems.push(`firmware "${p}": example does not match its schema: ${parsed.error.message}`);
      continue;
    }
    if (canonical && !canonical.safeParse(parsed.data).success) {
      problems.push(`firmware "${p}": normalized example is not a valid ${spec.family} reading`);
    }
    const unknown = Object.values(fw.telemetry.fields).filter((f) => canonical && !(f in canonical.shape));
    if (unknown.length)
      problems.push(`firmware "${p}": maps to unknown canonical fields ${unknown.join(', ')}`);
  }
  for (const [name, cmd] of Object.entries(spec.commands)) {
    if (!(cmd.mode in COMMAND_MODES)) problems.push(`command ${name}: mode must be state or action`);
    if (!cmd.params.safeParse(cmd.example).success) problems.push(`command ${name}: example is rejected`);
    if (cmd.params.safeParse(cmd.badExample).success)
      problems.push(`command ${name}: badExample is accepted`);
    const shape = (cmd.params as { shape?: Record<string, unknown> }).shape ?? {};
    for (const key of Object.keys(cmd.guards?.confirmWhen ?? {}))
      if (!Object.hasOwn(shape, key)) problems.push(`command ${name}: confirmWhen names ${key}, not a param`);
    if (cmd.mode === 'state' && !cmd.desired)
      problems.push(`command ${name}: a state command needs desired()`);
    if (spec.modbus && !cmd.modbus && cmd.mode === 'state') {
      problems.push(`command ${name}: a Modbus model's state command needs a modbus write`);
    }
    // Function codes 05/06/15/16 write coils and holding registers only (Modbus V1.1b3, 6.5 ff.).
    const write = cmd.modbus?.register;
    if (write && write.table !== 'coil' && write.table !== 'holding')
      problems.push(`command ${name}: a modbus write must target a coil or holding register`);
    if (write && (write.table === 'coil') !== (write.type === 'bool'))
      problems.push(`command ${name}: modbus write type ${write.type} does not fit ${write.table}`);
  }
  if (spec.modbus) problems.push(...validateRegisterMap(spec.modbus, Object.keys(canonical?.shape ?? {})));
  return problems;
}

function validateRegisterMap(map: ModbusMap, canonicalFields: string[]): string[] {
  const problems: string[] = [];
  const used = new Map<string, string>(); // "table:address" -> field
  for (const [field, reg] of Object.entries(map.registers)) {
    if (!canonicalFields.includes(field)) problems.push(`modbus: "${field}" is not a canonical field`);
    const bitTable = reg.table === 'coil' || reg.table === 'discrete';
    if (bitTable !== (reg.type === 'bool'))
      problems.push(`modbus ${field}: type ${reg.type} does not fit ${reg.table}`);
    const words = bitTable ? 1 : registerWords(reg.type);
    for (let a = reg.address; a < reg.address + words; a++) {
      const key = `${reg.table}:${a}`;
      const other = used.get(key);
      if (other) problems.push(`modbus ${field}: ${reg.table} ${a} already holds ${other}`);
      used.set(key, field);
    }
    if (!Number.isInteger(reg.address) || reg.address < 0 || reg.address + words > 65536)
      problems.push(`modbus ${field}: address out of range`);
  }
  return problems;
}
