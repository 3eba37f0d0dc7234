import { findFirmware, type ModelSpec } from '../firmware-specs/define-device.ts';
import { FAMILIES, type Family } from '../firmware-specs/families.ts';
import { createRng, type Rng } from './patterns.ts';

/**
 * Hanoi's 30 district-level units (12 urban districts, the town of Sơn Tây, 17 rural districts) as
 * they stood before the 2025 reorganisation, each with some of its wards or communes and an
 * approximate centre. Names are NFC Vietnamese with diacritics, as the registry stores them.
 */
export const DISTRICT_KINDS = { urban: 'urban', town: 'town', rural: 'rural' } as const;
export type DistrictKind = keyof typeof DISTRICT_KINDS;

export interface District {
  name: string;
  /** ASCII, no diacritics, no spaces: `hoankiem`. */
  slug: string;
  kind: DistrictKind;
  lat: number;
  lon: number;
  wards: readonly string[];
}

const d = (name: string, kind: DistrictKind, lat: number, lon: number, wards: string[]): District => ({
  name,
  slug: asciiSlug(name),
  kind,
  lat,
  lon,
  wards,
});

export const HANOI_DISTRICTS: readonly District[] = [
  d('Ba Đình', 'urban', 21.034, 105.814, [
    'Phúc Xá',
    'Trúc Bạch',
    'Quán Thánh',
    'Ngọc Hà',
    'Kim Mã',
    'Giảng Võ',
  ]),
  d('Hoàn Kiếm', 'urban', 21.0288, 105.8525, [
    'Hàng Bạc',
    'Hàng Trống',
    'Tràng Tiền',
    'Phúc Tân',
    'Hàng Đào',
  ]),
  d('Tây Hồ', 'urban', 21.07, 105.819, ['Quảng An', 'Nhật Tân', 'Tứ Liên', 'Xuân La', 'Bưởi', 'Yên Phụ']),
  d('Long Biên', 'urban', 21.047, 105.888, ['Bồ Đề', 'Gia Thụy', 'Ngọc Lâm', 'Việt Hưng', 'Sài Đồng']),
  d('Cầu Giấy', 'urban', 21.033, 105.794, ['Dịch Vọng', 'Mai Dịch', 'Nghĩa Đô', 'Quan Hoa', 'Trung Hòa']),
  d('Đống Đa', 'urban', 21.018, 105.829, ['Cát Linh', 'Văn Miếu', 'Quốc Tử Giám', 'Láng Thượng', 'Kim Liên']),
  d('Hai Bà Trưng', 'urban', 21.006, 105.858, [
    'Bạch Đằng',
    'Bách Khoa',
    'Lê Đại Hành',
    'Phố Huế',
    'Vĩnh Tuy',
  ]),
  d('Hoàng Mai', 'urban', 20.974, 105.863, ['Định Công', 'Giáp Bát', 'Hoàng Liệt', 'Tân Mai', 'Yên Sở']),
  d('Thanh Xuân', 'urban', 20.993, 105.814, ['Khương Đình', 'Nhân Chính', 'Thanh Xuân Bắc', 'Hạ Đình']),
  d('Nam Từ Liêm', 'urban', 21.012, 105.765, ['Mỹ Đình 1', 'Mỹ Đình 2', 'Mễ Trì', 'Cầu Diễn', 'Trung Văn']),
  d('Bắc Từ Liêm', 'urban', 21.07, 105.76, ['Cổ Nhuế 1', 'Đông Ngạc', 'Phú Diễn', 'Xuân Đỉnh', 'Thượng Cát']),
  d('Hà Đông', 'urban', 20.96, 105.765, [
    'Hà Cầu',
    'Mộ Lao',
    'Nguyễn Trãi',
    'Văn Quán',
    'Vạn Phúc',
    'Yết Kiêu',
  ]),
  d('Sơn Tây', 'town', 21.138, 105.505, ['Lê Lợi', 'Ngô Quyền', 'Phú Thịnh', 'Quang Trung', 'Trung Hưng']),
  d('Ba Vì', 'rural', 21.199, 105.423, ['Tây Đằng', 'Ba Trại', 'Tản Lĩnh', 'Vân Hòa', 'Yên Bài']),
  d('Chương Mỹ', 'rural', 20.873, 105.67, ['Chúc Sơn', 'Xuân Mai', 'Đại Yên', 'Phụng Châu', 'Trường Yên']),
  d('Đan Phượng', 'rural', 21.087, 105.67, ['Phùng', 'Hạ Mỗ', 'Liên Hồng', 'Tân Hội', 'Thượng Mỗ']),
  d('Đông Anh', 'rural', 21.136, 105.849, ['Đông Anh', 'Cổ Loa', 'Hải Bối', 'Uy Nỗ', 'Vân Nội', 'Xuân Nộn']),
  d('Gia Lâm', 'rural', 21.028, 105.95, ['Trâu Quỳ', 'Yên Viên', 'Bát Tràng', 'Đa Tốn', 'Phù Đổng']),
  d('Hoài Đức', 'rural', 21.025, 105.7, ['Trạm Trôi', 'An Khánh', 'Đức Thượng', 'Vân Canh', 'Sơn Đồng']),
  d('Mê Linh', 'rural', 21.18, 105.72, ['Quang Minh', 'Chi Đông', 'Tiền Phong', 'Tráng Việt', 'Đại Thịnh']),
  d('Mỹ Đức', 'rural', 20.7, 105.73, ['Đại Nghĩa', 'Hương Sơn', 'An Mỹ', 'Phù Lưu Tế', 'Tuy Lai']),
  d('Phú Xuyên', 'rural', 20.74, 105.91, ['Phú Xuyên', 'Phú Minh', 'Chuyên Mỹ', 'Nam Phong', 'Tri Thủy']),
  d('Phúc Thọ', 'rural', 21.1, 105.56, ['Phúc Thọ', 'Hát Môn', 'Ngọc Tảo', 'Phụng Thượng', 'Võng Xuyên']),
  d('Quốc Oai', 'rural', 20.99, 105.64, ['Quốc Oai', 'Sài Sơn', 'Phượng Cách', 'Đồng Quang', 'Ngọc Mỹ']),
  d('Sóc Sơn', 'rural', 21.26, 105.85, ['Sóc Sơn', 'Phù Linh', 'Minh Phú', 'Mai Đình', 'Tiên Dược']),
  d('Thạch Thất', 'rural', 21.06, 105.55, ['Liên Quan', 'Bình Yên', 'Hương Ngải', 'Kim Quan', 'Thạch Hòa']),
  d('Thanh Oai', 'rural', 20.86, 105.77, ['Kim Bài', 'Bích Hòa', 'Cự Khê', 'Tam Hưng', 'Thanh Cao']),
  d('Thanh Trì', 'rural', 20.94, 105.84, ['Văn Điển', 'Tả Thanh Oai', 'Tam Hiệp', 'Tứ Hiệp', 'Ngũ Hiệp']),
  d('Thường Tín', 'rural', 20.87, 105.86, ['Thường Tín', 'Hà Hồi', 'Nhị Khê', 'Văn Bình', 'Vạn Điểm']),
  d('Ứng Hòa', 'rural', 20.72, 105.78, ['Vân Đình', 'Quảng Phú Cầu', 'Liên Bạt', 'Trường Thịnh', 'Hòa Xá']),
];

/** `Hoàn Kiếm` -> `hoankiem`; `Đống Đa` -> `dongda`. */
export function asciiSlug(name: string): string {
  return name
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/[đĐ]/g, 'd')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');
}

/** Device id prefix per family: `sl-hoankiem-0001`. */
export const FAMILY_PREFIX: Record<Family, string> = {
  streetlight: 'sl',
  electricity_meter: 'em',
  water_station: 'ws',
  air_quality: 'aq',
};

export interface DevicePlan {
  id: string;
  family: Family;
  model: string;
  firmware: string;
  district: string;
  ward: string;
  lat: number;
  lon: number;
  tags: string[];
}

export interface PlaceOptions {
  perFamily: Partial<Record<Family, number>>;
  seed: number | string;
  /** Also place models that have a Modbus map (they are simulated by the Modbus simulators). */
  includeModbus?: boolean;
  /** Restrict to these models (ids). */
  models?: readonly string[];
}

// Urban districts are denser in devices than rural ones.
const KIND_WEIGHT: Record<DistrictKind, number> = { urban: 3, town: 2, rural: 1 };

/**
 * Deterministic placement: the same options and specs give the same plans. A count of at least 30
 * per family puts at least one device of that family in every district; the rest are spread by
 * district weight. Throws when a family is asked for but has no model to simulate.
 */
export function placeDevices(opts: PlaceOptions, specs: ReadonlyMap<string, ModelSpec>): DevicePlan[] {
  const plans: DevicePlan[] = [];
  for (const family of FAMILIES) {
    const count = opts.perFamily[family] ?? 0;
    if (count <= 0) continue;
    const rng = createRng(`${opts.seed}:${family}`);
    const models = [...specs.values()]
      .filter((s) => s.family === family && (opts.includeModbus || !s.modbus))
      .filter((s) => !opts.models || opts.models.includes(s.id))
      .sort((a, b) => a.id.localeCompare(b.id));
    if (models.length === 0) throw new Error(`placeDevices: no ${family} model to simulate`);
    const quotas = districtQuotas(count, rng);
    HANOI_DISTRICTS.forEach((district, di) => {
      for (let n = 1; n <= quotas[di]; n++) {
        const spec = rng.pick(models);
        const spread = district.kind === 'urban' ? 0.012 : 0.03;
        plans.push({
          id: `${FAMILY_PREFIX[family]}-${district.slug}-${String(n).padStart(4, '0')}`,
          family,
          model: spec.id,
          firmware: concreteVersion(rng.pick(Object.keys(spec.firmware)), rng),
          district: district.name,
          ward: rng.pick(district.wards),
          lat: round6(district.lat + rng.range(-spread, spread)),
          lon: round6(district.lon + rng.range(-spread, spread)),
          tags: [district.kind, `sim:${family}`],
        });
        const fw = plans.at(-1)!.firmware;
        if (!findFirmware(spec, fw)) throw new Error(`placeDevices: ${spec.id} has no firmware ${fw}`);
      }
    });
  }
  return plans;
}

function districtQuotas(count: number, rng: Rng): number[] {
  const n = HANOI_DISTRICTS.length;
  if (count < n) {
    // Too few for every district: a seeded choice of distinct districts, denser ones first.
    const order = HANOI_DISTRICTS.map((dist, i) => ({ i, key: rng.next() / KIND_WEIGHT[dist.kind] }))
      .sort((a, b) => a.key - b.key)
      .slice(0, count);
    const quotas = new Array<number>(n).fill(0);
    for (const { i } of order) quotas[i] = 1;
    return quotas;
  }
  // One each, then the rest by weight with the largest-remainder method.
  const rest = count - n;
  const weights = HANOI_DISTRICTS.map((dist) => KIND_WEIGHT[dist.kind]);
  const total = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (rest * w) / total);
  const quotas = exact.map((x) => 1 + Math.floor(x));
  let left = count - quotas.reduce((a, b) => a + b, 0);
  const byRemainder = exact
    .map((x, i) => ({ i, r: x - Math.floor(x) }))
    .sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { i } of byRemainder) {
    if (left-- <= 0) break;
    quotas[i]++;
  }
  return quotas;
}

/** A version matching a firmware pattern: `2.x` -> `2.1.0`, `2.1.x` -> `2.1.3`, `1.4.2` stays. */
export function concreteVersion(pattern: string, rng: Rng): string {
  if (!pattern.endsWith('.x')) return pattern;
  const parts = pattern.slice(0, -2).split('.');
  while (parts.length < 3) parts.push(String(rng.int(0, parts.length === 1 ? 4 : 9)));
  return parts.join('.');
}

function round6(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}
