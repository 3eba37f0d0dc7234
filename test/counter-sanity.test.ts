import { describe, expect, it } from 'vitest';
import { CounterSanity, counterLimits } from '../gateway/alarms/counter-sanity.ts';
import { Normalizer } from '../gateway/ingest/normalizer.ts';
import { deviceOf, specs } from './helpers/alarms.ts';

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 2, 12);

/** Feeds (minutes from T0, kWh) steps to a fresh checker; returns each verdict. */
function verdicts(model: string, steps: Array<[number, number]>, field = 'energy_kwh') {
  const sanity = new CounterSanity();
  const device = deviceOf(model);
  const spec = specs.get(model)!;
  return steps.map(([min, value]) => sanity.check(device, spec, { [field]: value }, T0 + min * MIN));
}

describe('counter sanity', () => {
  it('lets a counter that grows within the rating pass', () => {
    // VinaSmart EM-310, 5(60) A at 230 V: at most 13.8 kW, 3.45 kWh in 15 minutes.
    expect(
      verdicts('vinasmart-em310', [
        [0, 1000],
        [15, 1003],
        [30, 1003],
        [45, 1003.001],
      ]),
    ).toEqual([null, null, null, null]);
  });

  it('flags a meter swapped and restarting from zero as backwards', () => {
    expect(
      verdicts('vinasmart-em310', [
        [0, 12345.678],
        [15, 0],
        [30, 0.4],
      ]),
    ).toEqual([null, 'backwards', null]);
  });

  it('recognises a wrap at the register maximum as a rollover (uint32 Wh register)', () => {
    const max = (2 ** 32 - 1) / 1000;
    expect(
      verdicts('vinasmart-em310', [
        [0, max - 0.5],
        [15, 1.2],
      ]),
    ).toEqual([null, 'rollover']);
    // The same drop far from the maximum is no rollover.
    expect(
      verdicts('vinasmart-em310', [
        [0, max / 2],
        [15, 1.2],
      ]),
    ).toEqual([null, 'backwards']);
  });

  it('a float register never wraps: any decrease is backwards', () => {
    expect(
      verdicts('mekong-mk1p', [
        [0, 8421.37],
        [5, 8421.2],
      ]),
    ).toEqual([null, 'backwards']);
    // float32 noise in the last digit is no decrease.
    expect(
      verdicts('mekong-mk1p', [
        [0, 184502.317],
        [5, 184502.31],
      ]),
    ).toEqual([null, null]);
  });

  it('flags an increase larger than the rated power allows over the elapsed time', () => {
    // Sonmetrix SMX-630: 3 x 100 A x 230 V = 69 kW: at most ~5.75 kWh in 5 minutes (+20 %: 6.9).
    expect(
      verdicts('sonmetrix-smx630', [
        [0, 500],
        [5, 506],
        [10, 520],
      ]),
    ).toEqual([null, null, 'jump']);
  });

  it('takes the maximum of a Modbus counter from its register type (Hydrotek uint32 x 0.1 m3)', () => {
    const [limit] = counterLimits(specs.get('hydrotek-ps500')!);
    expect(limit).toMatchObject({ field: 'total_volume_m3', max: (2 ** 32 - 1) * 0.1, perHour: null });
    expect(
      verdicts(
        'hydrotek-ps500',
        [
          [0, (2 ** 32 - 1) * 0.1 - 10],
          [1, 5],
        ],
        'total_volume_m3',
      ),
    ).toEqual([null, 'rollover']);
  });

  it('burn hours grow at most one hour per hour', () => {
    expect(
      verdicts(
        'lumina-slc300',
        [
          [0, 100],
          [60, 101],
          [120, 105],
        ],
        'burn_hours',
      ),
    ).toEqual([null, null, 'jump']);
  });

  it('does not judge or remember a reading older than the last one', () => {
    expect(
      verdicts('vinasmart-em310', [
        [30, 1003],
        [15, 1001],
        [45, 1003.5],
      ]),
    ).toEqual([null, null, null]);
  });
});

describe('the normalizer with counter sanity', () => {
  it("tags the backwards reading's line with counter_check and keeps it", () => {
    const normalizer = new Normalizer({ maxAgeMs: 7 * 24 * 3600_000, counters: new CounterSanity() });
    const device = deviceOf('vinasmart-em310', { firmware: '1.4.0' });
    const spec = specs.get('vinasmart-em310')!;
    const send = (wh: number, at: number) =>
      normalizer.telemetry(
        device,
        spec,
        Buffer.from(JSON.stringify({ wh, w: 100, dv: 2300, a: 1, pf: 0.9, chz: 5000, rly: 1, ts: at })),
        at,
      );
    expect(send(12_345_678, T0).accepted[0].line).not.toContain('counter_check');
    const swapped = send(0, T0 + 15 * MIN);
    expect(swapped.rejected).toEqual([]);
    expect(swapped.accepted[0].fields).toMatchObject({ energy_kwh: 0, counter_check: 'backwards' });
    expect(swapped.accepted[0].line).toContain('counter_check="backwards"');
    expect(send(120, T0 + 30 * MIN).accepted[0].line).not.toContain('counter_check');
  });
});
