import { decodeBit, decodeRegisters, encodeRegisters } from '../adapters/modbus/register-codec.ts';
import {
  type ModbusMap,
  type ModelSpec,
  type RegisterDef,
  type RegisterTable,
  registerWords,
} from '../firmware-specs/define-device.ts';
import { createPattern, type DevicePattern, type Reading } from './patterns.ts';

export interface ModbusUnitOptions {
  unitId: number;
  /** A Modbus model (its spec has a register map). */
  spec: ModelSpec;
  /** Seed of the value pattern; default `{model}:{unitId}`. */
  seed?: string | number;
  pattern?: DevicePattern;
}

export interface InjectedException {
  table: RegisterTable;
  address: number;
  /** Modbus exception code, default 2 (illegal data address). */
  code?: number;
  access?: 'read' | 'write' | 'any';
}

const isBitTable = (t: RegisterTable) => t === 'coil' || t === 'discrete';
const width = (def: RegisterDef) => (isBitTable(def.table) ? 1 : registerWords(def.type));

/** One device behind the server: its register tables, playing a model's map. */
export class SimulatedUnit {
  readonly unitId: number;
  readonly spec: ModelSpec;
  readonly map: ModbusMap;
  readonly pattern: DevicePattern;
  /** Coil and discrete tables hold one bit per address (LSB first, as on the wire). */
  readonly tables: Record<RegisterTable, Buffer>;
  /** No answer at all, as a dead device behind an RS-485 gateway. */
  muted = false;
  /** Answers this late (wall ms): past the client's timeout it is a late reply. */
  delayMs = 0;
  /** Acknowledges writes without acting on them, as a station switched to local control. */
  ignoreWrites = false;
  readonly #pinned: Reading = {};
  #reading: Reading = {};
  #exceptions: InjectedException[] = [];
  readonly #writable: RegisterDef[];

  constructor(opts: ModbusUnitOptions) {
    if (!opts.spec.modbus) throw new Error(`model ${opts.spec.id} has no Modbus register map`);
    this.unitId = opts.unitId;
    this.spec = opts.spec;
    this.map = opts.spec.modbus;
    this.pattern =
      opts.pattern ??
      createPattern(opts.spec.family, { seed: opts.seed ?? `${opts.spec.id}:${opts.unitId}` });
    this.#writable = Object.values(opts.spec.commands).flatMap((c) => (c.modbus ? [c.modbus.register] : []));
    // Sized for the highest address used: jsmodbus' own default of 1024 bytes would silently
    // truncate a map reaching past register 511.
    const defs = [...Object.values(this.map.registers), ...this.#writable];
    const end = (t: RegisterTable) =>
      Math.max(0, ...defs.filter((d) => d.table === t).map((d) => d.address + width(d)));
    const size = (t: RegisterTable) => (isBitTable(t) ? Math.ceil(end(t) / 8) : end(t) * 2);
    this.tables = {
      coil: Buffer.alloc(size('coil')),
      discrete: Buffer.alloc(size('discrete')),
      holding: Buffer.alloc(size('holding')),
      input: Buffer.alloc(size('input')),
    };
  }

  /** The canonical values the registers hold now. */
  reading(): Reading {
    return { ...this.#reading };
  }

  /** Pins fields to fixed values (they stop following the pattern) until unpin(). */
  set(values: Reading): void {
    Object.assign(this.#pinned, values);
    this.#store(values);
  }

  unpin(): void {
    for (const k of Object.keys(this.#pinned)) delete this.#pinned[k];
  }

  /** Answers requests touching an address with a Modbus exception; returns the undo. */
  failOn(e: InjectedException): () => void {
    this.#exceptions.push(e);
    return () => {
      this.#exceptions = this.#exceptions.filter((x) => x !== e);
    };
  }

  /** Moves the values on to pattern time `atMs`. */
  refresh(atMs: number): void {
    this.#store({ ...this.pattern.read(atMs), ...this.#pinned });
  }

  /** The exception code a request must get, or 0. */
  exceptionFor(table: RegisterTable, start: number, count: number, write: boolean): number {
    const hit = this.#exceptions.find(
      (e) =>
        e.table === table &&
        e.address >= start &&
        e.address < start + count &&
        (e.access ?? 'any') !== (write ? 'read' : 'write'),
    );
    if (hit) return hit.code ?? 2;
    const limit = isBitTable(table) ? this.tables[table].length * 8 : this.tables[table].length / 2;
    if (start + count > limit) return 2;
    if (
      write &&
      !this.#writable.some(
        (d) => d.table === table && d.address < start + count && start < d.address + width(d),
      )
    )
      return 2; // a meter does not let its measurements be written
    return 0;
  }

  /** After a write: the fields it touched become the device's new state (valve set point, relay). */
  applyWrite(table: RegisterTable, start: number, count: number): void {
    const changed: Reading = {};
    for (const [field, def] of Object.entries(this.map.registers)) {
      if (def.table !== table || def.address >= start + count || def.address + width(def) <= start) continue;
      changed[field] = this.#load(def);
    }
    for (const f of Object.keys(changed)) if (f in this.#pinned) this.#pinned[f] = changed[f];
    this.pattern.apply(changed);
    Object.assign(this.#reading, changed);
  }

  getBit(table: RegisterTable, address: number): boolean {
    return (this.tables[table][address >> 3] & (1 << (address & 7))) !== 0;
  }

  setBit(table: RegisterTable, address: number, on: boolean): void {
    const buf = this.tables[table];
    buf[address >> 3] = on
      ? buf[address >> 3] | (1 << (address & 7))
      : buf[address >> 3] & ~(1 << (address & 7));
  }

  #load(def: RegisterDef): number | boolean {
    if (isBitTable(def.table)) return this.getBit(def.table, def.address);
    const buf = this.tables[def.table];
    const words = Array.from({ length: registerWords(def.type) }, (_, i) =>
      buf.readUInt16BE((def.address + i) * 2),
    );
    return decodeRegisters(words, def, this.map.order);
  }

  #store(values: Reading): void {
    for (const [field, value] of Object.entries(values)) {
      const def = this.map.registers[field];
      if (!def) continue;
      if (isBitTable(def.table)) {
        this.setBit(def.table, def.address, decodeBit(value));
      } else {
        try {
          const words = encodeRegisters(Number(value), def, this.map.order);
          for (const [i, w] of words.entries())
            this.tables[def.table].writeUInt16BE(w, (def.address + i) * 2);
        } catch {
          continue; // out of the register's range: the device keeps its last value
        }
      }
      this.#reading[field] = isBitTable(def.table) ? decodeBit(value) : this.#load(def);
    }
  }
}
