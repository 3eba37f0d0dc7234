import type { ModbusTCPClient } from 'jsmodbus';
import type { ModbusMap, ModbusWrite, RegisterTable } from '../../firmware-specs/define-device.ts';
import type { ModbusConnection } from './connection.ts';
import { MbErrReadbackMismatch } from './errors.ts';
import { decodeBit, decodeRegisters, encodeBit, encodeRegisters } from './register-codec.ts';

/** Reads a table with function 01, 02, 03 or 04; bits come back padded to whole bytes. */
export async function readTable(
  client: ModbusTCPClient,
  table: RegisterTable,
  address: number,
  count: number,
): Promise<Array<number | boolean>> {
  switch (table) {
    case 'coil':
      return [...(await client.readCoils(address, count)).response.body.valuesAsArray];
    case 'discrete':
      return [...(await client.readDiscreteInputs(address, count)).response.body.valuesAsArray];
    case 'holding':
      return [...(await client.readHoldingRegisters(address, count)).response.body.valuesAsArray];
    case 'input':
      return [...(await client.readInputRegisters(address, count)).response.body.valuesAsArray];
  }
}

export interface WriteRequest {
  conn: ModbusConnection;
  unitId: number;
  map: ModbusMap;
  write: ModbusWrite;
  /** The command's params, already checked against its schema. */
  params: unknown;
  /** The device acknowledged the write. */
  onDelivered(): void;
  /** Every failed request, for the adapter's counters. */
  onError?(err: Error): void;
}

/**
 * Writes a command's register and confirms it by reading it back: a coil with function 05, one
 * holding register with 06, a wider value with 16 (Modbus Application Protocol V1.1b3, 6.5,
 * 6.6, 6.12). The value is canonical; the register's scale and offset apply on the way out, and
 * the comparison is made after decoding, so rounding to the register's resolution is no mismatch.
 * Resolves with `{field: value read back}`.
 */
export async function writeAndConfirm(req: WriteRequest): Promise<Record<string, number | boolean>> {
  const { conn, unitId, map, write } = req;
  const def = write.register;
  const where = `${def.table} ${def.address}`;
  const field =
    Object.entries(map.registers).find(([, r]) => r.table === def.table && r.address === def.address)?.[0] ??
    `${def.table}_${def.address}`;
  const step = async <T>(what: string, run: (c: ModbusTCPClient) => Promise<T>): Promise<T> => {
    try {
      return await conn.request(unitId, run);
    } catch (err) {
      req.onError?.(err as Error);
      throw Object.assign(err as Error, { message: `${what}: ${(err as Error).message}` });
    }
  };
  const value = write.value(req.params);
  let expected: number | boolean;
  let readBack: () => Promise<number | boolean>;
  if (def.table === 'coil') {
    const bit = encodeBit(value as boolean);
    expected = bit;
    await step(`write ${where} (FC5)`, (c) => c.writeSingleCoil(def.address, bit));
    readBack = async () =>
      decodeBit((await step(`read-back ${where}`, (c) => readTable(c, 'coil', def.address, 1)))[0]);
  } else {
    const words = encodeRegisters(Number(value), def, map.order);
    expected = decodeRegisters(words, def, map.order);
    await (words.length === 1
      ? step(`write ${where} (FC6)`, (c) => c.writeSingleRegister(def.address, words[0]))
      : step(`write ${where} (FC16)`, (c) => c.writeMultipleRegisters(def.address, words)));
    readBack = async () => {
      const read = await step(`read-back ${where}`, (c) =>
        readTable(c, 'holding', def.address, words.length),
      );
      return decodeRegisters(read as number[], def, map.order);
    };
  }
  req.onDelivered();
  const actual = await readBack();
  if (actual !== expected) throw new MbErrReadbackMismatch(where, String(actual), String(expected));
  return { [field]: actual };
}
