import { describe, expect, it } from 'vitest';
import type { Device } from '../device-registry/devices.ts';
import { loadSpecs } from '../firmware-specs/index.ts';
import { pointToLine, tagSet } from '../gateway/ingest/line-protocol.ts';
import { Normalizer } from '../gateway/ingest/normalizer.ts';
import { parseDeviceTs, resolveTs } from '../gateway/ingest/timestamp.ts';

const NOW = Date.parse('2026-11-29T12:00:00Z');
const WEEK = 7 * 24 * 3600_000;

describe('timestamp rules', () => {
  it('reads epoch ms, epoch s and ISO 8601', () => {
    expect(parseDeviceTs(NOW)).toBe(NOW);
    expect(parseDeviceTs(NOW / 1000)).toBe(NOW);
    expect(parseDeviceTs(NOW / 1000 + 0.25)).toBe(NOW + 250);
    expect(parseDeviceTs('2026-11-29T19:00:00+07:00')).toBe(NOW);
    expect(parseDeviceTs('yesterday')).toBeNaN();
  });

  it('takes the device time when sane, else the receive time, saying why', () => {
    expect(resolveTs(NOW - 1000, NOW, WEEK)).toEqual({ ts: NOW - 1000, source: 'device' });
    expect(resolveTs(undefined, NOW, WEEK)).toEqual({ ts: NOW, source: 'received' });
    expect(resolveTs(NOW + 4 * 60_000, NOW, WEEK).source).toBe('device');
    expect(resolveTs(NOW + 6 * 60_000, NOW, WEEK)).toEqual({
      ts: NOW,
      source: 'received',
      rejected: 'ts in the future',
    });
    expect(resolveTs(NOW - WEEK - 1, NOW, WEEK)).toEqual({
      ts: NOW,
      source: 'received',
      rejected: 'ts too old',
    });
    expect(resolveTs('soon', NOW, WEEK).rejected).toBe('unreadable ts');
  });
});

describe('line protocol', () => {
  it('escapes Vietnamese tag values with spaces, commas and equals signs', () => {
    const line = pointToLine({
      measurement: 'streetlight',
      tags: { ward: 'Hàng Bạc', district: 'Hoàn Kiếm', device_id: 'a,b=c' },
      fields: { dim_percent: 40, lamp_on: true, note: 'say "hi"', skipped: undefined },
      ts: NOW,
    });
    expect(line).toBe(
      `streetlight,device_id=a\\,b\\=c,district=Hoàn\\ Kiếm,ward=Hàng\\ Bạc dim_percent=40,lamp_on=true,note="say \\"hi\\"" ${NOW}`,
    );
  });

  it('leaves out empty tag values, which line protocol does not allow', () => {
    expect(tagSet({ a: '', b: 'x' })).toBe(',b=x');
  });
});

describe('normalization per firmware', () => {
  it('maps each model firmware onto canonical fields with units', async () => {
    const specs = await loadSpecs();
    const normalizer = new Normalizer({ maxAgeMs: WEEK });
    const device = (model: string, firmware: string, family: string) =>
      ({ id: 'd1', model, firmware, family, district: 'Ba Đình', ward: 'Kim Mã' }) as Device;
    const sl = normalizer.telemetry(
      device('lumina-slc300', '2.0.0', 'streetlight'),
      specs.get('lumina-slc300')!,
      Buffer.from(
        JSON.stringify({
          drv: { state: 'OFF', level: 0, power_dw: 5, hours: 9 },
          env: { lux: 900 },
          ts: NOW / 1000,
        }),
      ),
      NOW,
    );
    expect(sl.rejected).toEqual([]);
    expect(sl.accepted[0].fields).toEqual({
      lamp_on: false,
      dim_percent: 0,
      lamp_power_w: 0.5,
      ambient_lux: 900,
      burn_hours: 9,
    });
    expect(sl.accepted[0].ts).toBe(NOW);

    const unknownFw = normalizer.telemetry(
      device('lumina-slc300', '7.0', 'streetlight'),
      specs.get('lumina-slc300')!,
      Buffer.from('{}'),
      NOW,
    );
    expect(unknownFw.rejected[0].reasons[0].message).toMatch(/no firmware spec for 7.0/);
  });
});
