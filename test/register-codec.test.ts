import { describe, expect, it } from 'vitest';
import { decodeBit, decodeRegisters, encodeBit, encodeRegisters } from '../adapters/modbus/register-codec.ts';
import {
  BYTE_ORDERS,
  type ByteOrder,
  type RegisterDef,
  type RegisterType,
} from '../firmware-specs/define-device.ts';

const reg = (type: RegisterType, extra: Partial<RegisterDef> = {}): RegisterDef => ({
  table: 'holding',
  address: 0,
  type,
  ...extra,
});

describe('float32 in the four byte orders', () => {
  // 123.456 is 0x42F6E979 (IEEE 754 single), bytes A=42 B=F6 C=E9 D=79.
  const words: Record<ByteOrder, number[]> = {
    ABCD: [0x42f6, 0xe979],
    CDAB: [0xe979, 0x42f6],
    BADC: [0xf642, 0x79e9],
    DCBA: [0x79e9, 0xf642],
  };
  for (const order of BYTE_ORDERS) {
    it(`reads ${order}`, () => {
      expect(decodeRegisters(words[order], reg('float32'), order)).toBe(123.456);
    });
    it(`writes ${order}`, () => {
      expect(encodeRegisters(123.456, reg('float32'), order)).toEqual(words[order]);
    });
  }

  it('prefers the register order over the map default', () => {
    expect(decodeRegisters([0xe979, 0x42f6], reg('float32', { order: 'CDAB' }), 'ABCD')).toBe(123.456);
  });

  it('reads a float32 as the shortest decimal of that float, not its binary expansion', () => {
    expect(decodeRegisters([0x4366, 0x6666], reg('float32'), 'ABCD')).toBe(230.4);
  });

  it('accepts a Uint16Array as jsmodbus gives it', () => {
    expect(decodeRegisters(Uint16Array.from([0x42f6, 0xe979]), reg('float32'), 'ABCD')).toBe(123.456);
  });
});

describe('integers', () => {
  it('reads a negative int16, and its byte-swapped form', () => {
    expect(decodeRegisters([0xfffe], reg('int16'), 'ABCD')).toBe(-2);
    expect(decodeRegisters([0x85ff], reg('int16'), 'BADC')).toBe(-123);
    expect(decodeRegisters([0x85ff], reg('int16'), 'CDAB')).toBe(0x85ff - 0x10000);
  });

  it('reads uint16 without sign', () => {
    expect(decodeRegisters([0xfffe], reg('uint16'), 'ABCD')).toBe(65534);
  });

  it('reads a negative int32 big-endian and word-swapped', () => {
    // -123456 = 0xFFFE1DC0
    expect(decodeRegisters([0xfffe, 0x1dc0], reg('int32'), 'ABCD')).toBe(-123456);
    expect(decodeRegisters([0x1dc0, 0xfffe], reg('int32'), 'CDAB')).toBe(-123456);
    expect(decodeRegisters([0xc01d, 0xfeff], reg('int32'), 'DCBA')).toBe(-123456);
  });

  it('reads uint32 above 2^31', () => {
    // 4,000,000,000 = 0xEE6B2800
    expect(decodeRegisters([0xee6b, 0x2800], reg('uint32'), 'ABCD')).toBe(4_000_000_000);
    expect(decodeRegisters([0x2800, 0xee6b], reg('uint32'), 'CDAB')).toBe(4_000_000_000);
  });

  it('reads a negative int64 in all orders', () => {
    // -1234567890123 = 0xFFFFFEE08E04FB35
    const be = [0xffff, 0xfee0, 0x8e04, 0xfb35];
    expect(decodeRegisters(be, reg('int64'), 'ABCD')).toBe(-1234567890123);
    expect(decodeRegisters([...be].reverse(), reg('int64'), 'CDAB')).toBe(-1234567890123);
    expect(decodeRegisters([0xffff, 0xe0fe, 0x048e, 0x35fb], reg('int64'), 'BADC')).toBe(-1234567890123);
    expect(decodeRegisters([0x35fb, 0x048e, 0xe0fe, 0xffff], reg('int64'), 'DCBA')).toBe(-1234567890123);
  });

  it('reads a uint64 counter past 32 bits', () => {
    expect(decodeRegisters([0, 1, 0, 0], reg('uint64'), 'ABCD')).toBe(2 ** 32);
    expect(decodeRegisters([0, 0, 1, 0], reg('uint64'), 'CDAB')).toBe(2 ** 32);
  });
});

describe('float64', () => {
  // 123.456 is 0x405EDD2F1A9FBE77 (IEEE 754 double).
  const words: Record<ByteOrder, number[]> = {
    ABCD: [0x405e, 0xdd2f, 0x1a9f, 0xbe77],
    CDAB: [0xbe77, 0x1a9f, 0xdd2f, 0x405e],
    BADC: [0x5e40, 0x2fdd, 0x9f1a, 0x77be],
    DCBA: [0x77be, 0x9f1a, 0x2fdd, 0x5e40],
  };
  for (const order of BYTE_ORDERS) {
    it(`reads and writes ${order}`, () => {
      expect(decodeRegisters(words[order], reg('float64'), order)).toBe(123.456);
      expect(encodeRegisters(123.456, reg('float64'), order)).toEqual(words[order]);
    });
  }
});

describe('scale and offset', () => {
  it('turns a Wh counter into kWh', () => {
    // 12,345,678 Wh = 0x00BC614E
    const def = reg('uint32', { scale: 0.001 });
    expect(decodeRegisters([0x00bc, 0x614e], def, 'ABCD')).toBe(12345.678);
    expect(encodeRegisters(12345.678, def, 'ABCD')).toEqual([0x00bc, 0x614e]);
  });

  it('applies offset after scale (canonical = raw * scale + offset)', () => {
    // A temperature sent as tenths of a degree above -40 °C: raw 652 is 25.2 °C.
    const def = reg('uint16', { scale: 0.1, offset: -40 });
    expect(decodeRegisters([652], def, 'ABCD')).toBe(25.2);
    expect(encodeRegisters(25.2, def, 'ABCD')).toEqual([652]);
  });

  it('reads a pH sent as hundredths', () => {
    expect(decodeRegisters([712], reg('int16', { scale: 0.01 }), 'ABCD')).toBe(7.12);
  });
});

describe('round trips', () => {
  const samples: Record<Exclude<RegisterType, 'bool'>, number[]> = {
    int16: [-32768, -1, 0, 1234, 32767],
    uint16: [0, 1, 40000, 65535],
    int32: [-(2 ** 31), -123456, 0, 2 ** 31 - 1],
    uint32: [0, 70000, 2 ** 32 - 1],
    float32: [-1.5, 0, 49.98, 230.4, 123456.7],
    float64: [-1e-9, 0, Math.PI, 1.7976931348623157e308],
    int64: [-(2 ** 53) + 1, -1, 0, 2 ** 53 - 1],
    uint64: [0, 2 ** 40, 2 ** 53 - 1],
  };
  for (const [type, values] of Object.entries(samples)) {
    for (const order of BYTE_ORDERS) {
      it(`${type} ${order}`, () => {
        const def = reg(type as RegisterType);
        for (const v of values) expect(decodeRegisters(encodeRegisters(v, def, order), def, order)).toBe(v);
      });
    }
  }

  it('scaled types round trip in every order', () => {
    for (const order of BYTE_ORDERS) {
      const def = reg('int32', { scale: 0.01, offset: 5 });
      for (const v of [-1000.25, 0, 5, 12.34]) {
        expect(decodeRegisters(encodeRegisters(v, def, order), def, order)).toBe(v);
      }
    }
  });
});

describe('errors', () => {
  it('refuses the wrong number of words', () => {
    expect(() => decodeRegisters([1], reg('float32'), 'ABCD')).toThrow(
      expect.objectContaining({ code: 'MB_ERR_BAD_REGISTER_COUNT' }),
    );
    expect(() => decodeRegisters([1, 2, 3], reg('int64'), 'ABCD')).toThrow(/needs 4 words, got 3/);
  });

  it('refuses words outside 16 bits', () => {
    expect(() => decodeRegisters([70000], reg('uint16'), 'ABCD')).toThrow(
      expect.objectContaining({ code: 'MB_ERR_BAD_WORD' }),
    );
    expect(() => decodeRegisters([-1], reg('uint16'), 'ABCD')).toThrow(
      expect.objectContaining({ code: 'MB_ERR_BAD_WORD' }),
    );
  });

  it('refuses values that do not fit the type', () => {
    for (const [type, value] of [
      ['int16', 40000],
      ['uint16', -1],
      ['uint32', 2 ** 32],
      ['int16', Number.NaN],
    ] as const) {
      expect(() => encodeRegisters(value, reg(type), 'ABCD')).toThrow(
        expect.objectContaining({ code: 'MB_ERR_VALUE_OUT_OF_RANGE', statusCode: 400 }),
      );
    }
    // A scaled valve opening of 7000 % is 70,000 raw: too large for uint16.
    expect(() => encodeRegisters(7000, reg('uint16', { scale: 0.1 }), 'ABCD')).toThrow(/does not fit/);
  });

  it('sends bool registers to the bit helpers', () => {
    const coil: RegisterDef = { table: 'coil', address: 0, type: 'bool' };
    expect(() => decodeRegisters([1], coil, 'ABCD')).toThrow(
      expect.objectContaining({ code: 'MB_ERR_UNSUPPORTED_TYPE' }),
    );
    expect(() => encodeRegisters(1, coil, 'ABCD')).toThrow(
      expect.objectContaining({ code: 'MB_ERR_UNSUPPORTED_TYPE' }),
    );
  });
});

describe('coils', () => {
  it('reads 0/1 and booleans', () => {
    expect(decodeBit(1)).toBe(true);
    expect(decodeBit(0)).toBe(false);
    expect(decodeBit(true)).toBe(true);
    expect(encodeBit(1)).toBe(true);
    expect(encodeBit(false)).toBe(false);
  });

  it('refuses anything else', () => {
    expect(() => decodeBit(2)).toThrow(expect.objectContaining({ code: 'MB_ERR_BAD_BIT' }));
    expect(() => encodeBit(0.5)).toThrow(expect.objectContaining({ code: 'MB_ERR_BAD_BIT' }));
  });
});
