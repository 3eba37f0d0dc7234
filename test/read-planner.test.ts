import { describe, expect, it } from 'vitest';
import {
  extractValues,
  planReads,
  type ReadRequest,
  type ReadResult,
} from '../adapters/modbus/read-planner.ts';
import { encodeBit, encodeRegisters } from '../adapters/modbus/register-codec.ts';
import type { DeviceSpec, ModbusMap, RegisterDef } from '../firmware-specs/define-device.ts';
import smx630 from '../firmware-specs/electricity_meter/sonmetrix-smx630.ts';
import ps500 from '../firmware-specs/water_station/hydrotek-ps500.ts';

const mapOf = (registers: Record<string, RegisterDef>, order: ModbusMap['order'] = 'ABCD'): ModbusMap => ({
  order,
  pollIntervalMs: 1000,
  registers,
});

const float32At = (address: number): RegisterDef => ({ table: 'input', address, type: 'float32' });

/** A device's memory as a simulator would hold it, answering each planned read. */
function answer(map: ModbusMap, reading: Record<string, unknown>, requests: ReadRequest[]): ReadResult[] {
  const words = new Map<string, number>();
  const bits = new Map<string, boolean>();
  for (const [field, def] of Object.entries(map.registers)) {
    if (def.type === 'bool') bits.set(`${def.table}:${def.address}`, encodeBit(reading[field] as boolean));
    else
      encodeRegisters(reading[field] as number, def, map.order).forEach((w, i) => {
        words.set(`${def.table}:${def.address + i}`, w);
      });
  }
  return requests.map((q) =>
    Array.from({ length: q.count }, (_, i) =>
      q.table === 'coil' || q.table === 'discrete'
        ? (bits.get(`${q.table}:${q.address + i}`) ?? false)
        : (words.get(`${q.table}:${q.address + i}`) ?? 0),
    ),
  );
}

describe('planReads', () => {
  it('reads the SDM630-style meter in three requests: the relay coil, the live values, the energy counter', () => {
    expect(planReads(smx630.modbus!)).toEqual([
      { table: 'coil', address: 0, count: 1, fields: ['relay_closed'] },
      {
        table: 'input',
        address: 0x2a,
        count: 0x48 - 0x2a,
        fields: ['voltage_v', 'current_a', 'power_w', 'power_factor', 'frequency_hz'],
      },
      { table: 'input', address: 0x180, count: 4, fields: ['energy_kwh'] },
    ]);
  });

  it('reads the pump station per table, across small gaps', () => {
    expect(planReads(ps500.modbus!)).toEqual([
      { table: 'holding', address: 100, count: 1, fields: ['valve_percent'] },
      {
        table: 'input',
        address: 0,
        count: 23,
        fields: ['flow_m3h', 'pressure_bar', 'total_volume_m3', 'turbidity_ntu', 'chlorine_mgl', 'ph'],
      },
    ]);
  });

  it('bridges a gap of up to 8 registers and no more', () => {
    const bridged = planReads(mapOf({ voltage_v: float32At(0), current_a: float32At(10) }));
    expect(bridged).toEqual([{ table: 'input', address: 0, count: 12, fields: ['voltage_v', 'current_a'] }]);
    const split = planReads(mapOf({ voltage_v: float32At(0), current_a: float32At(11) }));
    expect(split.map((q) => [q.address, q.count])).toEqual([
      [0, 2],
      [11, 2],
    ]);
  });

  it('takes the gap as a parameter', () => {
    const map = mapOf({ voltage_v: float32At(0), current_a: float32At(3) });
    expect(planReads(map, 125, 2000, 0)).toHaveLength(2);
    expect(planReads(mapOf({ voltage_v: float32At(0), current_a: float32At(2) }), 125, 2000, 0)).toHaveLength(
      1,
    );
  });

  it('sorts registers declared out of order', () => {
    const map = mapOf({ power_w: float32At(20), voltage_v: float32At(0), current_a: float32At(4) });
    expect(planReads(map)).toEqual([
      { table: 'input', address: 0, count: 6, fields: ['voltage_v', 'current_a'] },
      { table: 'input', address: 20, count: 2, fields: ['power_w'] },
    ]);
  });

  it('never reads more than 125 registers at once and never splits a value', () => {
    const registers: Record<string, RegisterDef> = {};
    for (let i = 0; i < 150; i++) registers[`f${i}`] = float32At(2 * i);
    const requests = planReads(mapOf(registers));
    expect(requests.map((q) => [q.address, q.count])).toEqual([
      [0, 124],
      [124, 124],
      [248, 52],
    ]);
    expect(requests.flatMap((q) => q.fields)).toHaveLength(150);
  });

  it('splits at a smaller limit when the device needs it', () => {
    const registers: Record<string, RegisterDef> = {};
    for (let i = 0; i < 10; i++) registers[`f${i}`] = { table: 'holding', address: i, type: 'uint16' };
    expect(planReads(mapOf(registers), 4).map((q) => q.count)).toEqual([4, 4, 2]);
  });

  it('never reads more than 2000 coils at once', () => {
    const registers: Record<string, RegisterDef> = {};
    for (let i = 0; i < 2500; i++) registers[`c${i}`] = { table: 'coil', address: i, type: 'bool' };
    expect(planReads(mapOf(registers)).map((q) => [q.address, q.count])).toEqual([
      [0, 2000],
      [2000, 500],
    ]);
  });

  it('refuses a limit that is not a positive integer', () => {
    expect(() => planReads(smx630.modbus!, 0)).toThrow(
      expect.objectContaining({ code: 'MB_ERR_BAD_READ_LIMIT' }),
    );
    expect(() => planReads(smx630.modbus!, 125, 1.5)).toThrow(/maxBits/);
  });

  it('plans nothing for an empty map', () => {
    expect(planReads(mapOf({}))).toEqual([]);
  });
});

describe('extractValues', () => {
  const cases: [string, DeviceSpec][] = [
    ['sonmetrix-smx630', smx630],
    ['hydrotek-ps500', ps500],
  ];
  for (const [id, spec] of cases) {
    it(`decodes the whole ${id} map into its canonical example`, () => {
      const map = spec.modbus!;
      for (const fw of Object.values(spec.firmware)) {
        const requests = planReads(map);
        const values = extractValues(map, requests, answer(map, fw.example, requests));
        expect(values).toEqual(fw.example);
        expect(fw.telemetry.schema.parse(values)).toEqual(fw.example);
      }
    });
  }

  it('reads the PS-500 word-swapped counter from its raw words', () => {
    const map = ps500.modbus!;
    const requests = planReads(map);
    // total_volume_m3 at input 10-11, CDAB: 15,203,486 (0x00E7FC9E) tenths of m3, low word first.
    const input = new Uint16Array(23);
    input.set([0xfc9e, 0x00e7], 10);
    input[22] = 712; // pH 7.12
    const values = extractValues(map, requests, [[755], input]);
    expect(values).toMatchObject({ total_volume_m3: 1520348.6, ph: 7.12, valve_percent: 75.5 });
  });

  it('takes coils padded to whole bytes, as jsmodbus returns them', () => {
    const map = smx630.modbus!;
    const requests = planReads(map);
    const responses = answer(map, smx630.firmware['1.x'].example, requests);
    responses[0] = [0, 1, 1, 0, 0, 0, 0, 0];
    expect(extractValues(map, requests, responses).relay_closed).toBe(false);
  });

  it('leaves out fields no request covers', () => {
    const map = smx630.modbus!;
    const inputOnly = planReads(map).filter((q) => q.table === 'input');
    const values = extractValues(map, inputOnly, answer(map, smx630.firmware['1.x'].example, inputOnly));
    expect(values).not.toHaveProperty('relay_closed');
    expect(values).toHaveProperty('energy_kwh', 184502.317);
  });

  it('refuses a short answer and a response count that does not match', () => {
    const map = smx630.modbus!;
    const requests = planReads(map);
    const responses = answer(map, smx630.firmware['1.x'].example, requests);
    expect(() => extractValues(map, requests, responses.slice(0, 2))).toThrow(
      expect.objectContaining({ code: 'MB_ERR_RESPONSE_MISMATCH' }),
    );
    expect(() => extractValues(map, requests, [responses[0], responses[1], [0, 0]])).toThrow(
      expect.objectContaining({ code: 'MB_ERR_SHORT_RESPONSE' }),
    );
  });
});
