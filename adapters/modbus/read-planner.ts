import {
  type ModbusMap,
  REGISTER_TABLES,
  type RegisterTable,
  registerWords,
} from '../../firmware-specs/define-device.ts';
import { MbErrBadReadLimit, MbErrResponseMismatch, MbErrShortResponse } from './errors.ts';
import { decodeBit, decodeRegisters } from './register-codec.ts';

/** One Modbus read: function 01 (coil), 02 (discrete), 03 (holding) or 04 (input). */
export interface ReadRequest {
  table: RegisterTable;
  address: number;
  /** Registers for holding/input, bits for coil/discrete. */
  count: number;
  /** Canonical fields the read covers. */
  fields: string[];
}

/** What a read returned: 16-bit words for holding/input, bits (0/1 or booleans) for coil/discrete. */
export type ReadResult = ArrayLike<number | boolean>;

/** Unmapped registers read across to save a round trip; small, as some devices refuse unmapped addresses. */
export const DEFAULT_MAX_GAP = 8;

const isBitTable = (table: RegisterTable) => table === 'coil' || table === 'discrete';
const widthOf = (table: RegisterTable, type: Parameters<typeof registerWords>[0]) =>
  isBitTable(table) ? 1 : registerWords(type);

/**
 * Groups a register map into as few reads as Modbus allows: per table, sorted by address,
 * neighbours (gap up to `maxGap`) merged while a read stays within 125 registers (function
 * 03/04) or 2000 bits (01/02), per Modbus Application Protocol V1.1b3, 6.1 to 6.4.
 */
export function planReads(
  map: ModbusMap,
  maxRegisters = 125,
  maxBits = 2000,
  maxGap = DEFAULT_MAX_GAP,
): ReadRequest[] {
  for (const [name, v] of [
    ['maxRegisters', maxRegisters],
    ['maxBits', maxBits],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new MbErrBadReadLimit(name, v);
  }
  const requests: ReadRequest[] = [];
  for (const table of REGISTER_TABLES) {
    const limit = isBitTable(table) ? maxBits : maxRegisters;
    const regs = Object.entries(map.registers)
      .filter(([, def]) => def.table === table)
      .map(([field, def]) => ({ field, start: def.address, end: def.address + widthOf(table, def.type) }))
      .sort((a, b) => a.start - b.start || a.end - b.end);
    let current: ReadRequest | undefined;
    for (const r of regs) {
      const currentEnd = current ? current.address + current.count : 0;
      const newEnd = Math.max(currentEnd, r.end);
      if (current && r.start - currentEnd <= maxGap && newEnd - current.address <= limit) {
        current.count = newEnd - current.address;
        current.fields.push(r.field);
      } else {
        current = { table, address: r.start, count: r.end - r.start, fields: [r.field] };
        requests.push(current);
      }
    }
  }
  return requests;
}

/**
 * Decodes each field of the map from the reads' results (`responses[i]` answers
 * `requests[i]`) into canonical values: numbers scaled per the map, booleans for bits.
 * Fields no request covers are left out, so a caller may read a part of the map.
 */
export function extractValues(
  map: ModbusMap,
  requests: readonly ReadRequest[],
  responses: readonly ReadResult[],
): Record<string, number | boolean> {
  if (requests.length !== responses.length)
    throw new MbErrResponseMismatch(requests.length, responses.length);
  const values: Record<string, number | boolean> = {};
  for (const [field, def] of Object.entries(map.registers)) {
    const width = widthOf(def.table, def.type);
    const i = requests.findIndex(
      (q) => q.table === def.table && def.address >= q.address && def.address + width <= q.address + q.count,
    );
    if (i < 0) continue;
    const request = requests[i];
    const result = responses[i];
    // Coil reads come back padded to whole bytes; only a short answer is an error.
    if (result.length < request.count)
      throw new MbErrShortResponse(request.table, request.address, result.length, request.count);
    const at = def.address - request.address;
    if (isBitTable(def.table)) {
      values[field] = decodeBit(result[at]);
    } else {
      const words = Array.from({ length: width }, (_, k) => Number(result[at + k]));
      values[field] = decodeRegisters(words, def, map.order);
    }
  }
  return values;
}
