import {
  type ByteOrder,
  type RegisterDef,
  type RegisterType,
  registerWords,
} from '../../firmware-specs/define-device.ts';
import {
  MbErrBadBit,
  MbErrBadRegisterCount,
  MbErrBadWord,
  MbErrUnsupportedType,
  MbErrValueOutOfRange,
} from './errors.ts';

/**
 * Values of multi-register Modbus types. The Modbus spec (Application Protocol V1.1b3, 4.2) sends
 * each 16-bit word big-endian but says nothing about how wider values span words, so devices
 * differ. Letters name the bytes of the value, A the most significant:
 * - ABCD: big-endian (the usual choice);
 * - CDAB: words in reverse order, bytes within a word big-endian ("word swap");
 * - BADC: words in order, bytes swapped within each word ("byte swap");
 * - DCBA: fully little-endian.
 * 64-bit types generalise the same way (CDAB = word order reversed, DCBA = all bytes reversed);
 * 16-bit types only see the byte swap (BADC and DCBA).
 */

const INT_RANGES: Partial<Record<RegisterType, readonly [bigint, bigint]>> = {
  int16: [-(2n ** 15n), 2n ** 15n - 1n],
  uint16: [0n, 2n ** 16n - 1n],
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
};

const swapsBytes = (order: ByteOrder) => order === 'BADC' || order === 'DCBA';
const reversesWords = (order: ByteOrder) => order === 'CDAB' || order === 'DCBA';

/**
 * Reorders the wire bytes of `words` into big-endian value bytes. Both steps are involutions
 * and commute, so the same function turns big-endian value bytes back into wire order.
 */
function reorder(bytes: Uint8Array, order: ByteOrder): Uint8Array {
  const n = bytes.length / 2;
  const out = new Uint8Array(bytes.length);
  for (let w = 0; w < n; w++) {
    const from = reversesWords(order) ? n - 1 - w : w;
    const hi = bytes[2 * from];
    const lo = bytes[2 * from + 1];
    out[2 * w] = swapsBytes(order) ? lo : hi;
    out[2 * w + 1] = swapsBytes(order) ? hi : lo;
  }
  return out;
}

/** The shortest decimal that is still the same float32 (230.39999389648438 reads as 230.4). */
function shortestFloat32(x: number): number {
  if (!Number.isFinite(x)) return x;
  for (let p = 1; p < 9; p++) {
    const candidate = Number(x.toPrecision(p));
    if (Math.fround(candidate) === x) return candidate;
  }
  return x;
}

/** Drops the binary noise of scaling (0.1 * 3) while keeping every digit a double can hold. */
function tidy(n: number): number {
  return Number.parseFloat(n.toPrecision(15));
}

function checkWords(words: ArrayLike<number>, def: RegisterDef): void {
  const expected = registerWords(def.type);
  if (words.length !== expected)
    throw new MbErrBadRegisterCount(`${def.table} ${def.address} (${def.type})`, expected, words.length);
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (!Number.isInteger(w) || w < 0 || w > 0xffff) throw new MbErrBadWord(w);
  }
}

/** The raw (unscaled) value held by the words, read in the given byte order. */
function rawValue(words: ArrayLike<number>, type: RegisterType, order: ByteOrder): number {
  const wire = new Uint8Array(words.length * 2);
  for (let i = 0; i < words.length; i++) {
    wire[2 * i] = words[i] >> 8;
    wire[2 * i + 1] = words[i] & 0xff;
  }
  const view = new DataView(reorder(wire, order).buffer);
  switch (type) {
    case 'int16':
      return view.getInt16(0);
    case 'uint16':
      return view.getUint16(0);
    case 'int32':
      return view.getInt32(0);
    case 'uint32':
      return view.getUint32(0);
    case 'float32':
      return shortestFloat32(view.getFloat32(0));
    case 'float64':
      return view.getFloat64(0);
    case 'int64':
      return Number(view.getBigInt64(0));
    case 'uint64':
      return Number(view.getBigUint64(0));
    default:
      throw new MbErrUnsupportedType(type, 'a coil value is a bit, use decodeBit');
  }
}

/** Decodes one register value: canonical = raw * scale + offset. */
export function decodeRegisters(
  words: readonly number[] | Uint16Array,
  def: RegisterDef,
  defaultOrder: ByteOrder,
): number {
  if (def.type === 'bool') throw new MbErrUnsupportedType('bool', 'a coil value is a bit, use decodeBit');
  checkWords(words, def);
  const raw = rawValue(words, def.type, def.order ?? defaultOrder);
  const scale = def.scale ?? 1;
  const offset = def.offset ?? 0;
  if (scale === 1 && offset === 0) return raw;
  return tidy(raw * scale + offset);
}

/** Encodes a canonical value into the register words to write (inverse of decodeRegisters). */
export function encodeRegisters(value: number, def: RegisterDef, defaultOrder: ByteOrder): number[] {
  if (def.type === 'bool') throw new MbErrUnsupportedType('bool', 'a coil value is a bit, use encodeBit');
  const raw = (value - (def.offset ?? 0)) / (def.scale ?? 1);
  const bytes = new Uint8Array(registerWords(def.type) * 2);
  const view = new DataView(bytes.buffer);
  if (def.type === 'float32' || def.type === 'float64') {
    if (Number.isNaN(raw)) throw new MbErrValueOutOfRange(value, def.type);
    if (def.type === 'float32') view.setFloat32(0, raw);
    else view.setFloat64(0, raw);
  } else {
    if (!Number.isFinite(raw)) throw new MbErrValueOutOfRange(value, def.type);
    const int = BigInt(Math.round(raw));
    const [min, max] = INT_RANGES[def.type]!;
    if (int < min || int > max) throw new MbErrValueOutOfRange(value, def.type);
    switch (def.type) {
      case 'int16':
        view.setInt16(0, Number(int));
        break;
      case 'uint16':
        view.setUint16(0, Number(int));
        break;
      case 'int32':
        view.setInt32(0, Number(int));
        break;
      case 'uint32':
        view.setUint32(0, Number(int));
        break;
      case 'int64':
        view.setBigInt64(0, int);
        break;
      case 'uint64':
        view.setBigUint64(0, int);
        break;
    }
  }
  const wire = reorder(bytes, def.order ?? defaultOrder);
  const words: number[] = [];
  for (let i = 0; i < wire.length; i += 2) words.push((wire[i] << 8) | wire[i + 1]);
  return words;
}

/** A coil or discrete input as read (jsmodbus gives 0/1 or booleans) to its boolean value. */
export function decodeBit(bit: boolean | number): boolean {
  if (bit === true || bit === 1) return true;
  if (bit === false || bit === 0) return false;
  throw new MbErrBadBit(bit);
}

/** A command or simulator value (boolean or 0/1) to the coil state to write. */
export function encodeBit(value: boolean | number): boolean {
  return decodeBit(value);
}
