import { describe, expect, it } from 'vitest';
import { alarmDesiredState } from '../gateway/alarms/desired-state.ts';
import { deviceOf, engineHarness } from './helpers/alarms.ts';

const MIN = 60_000;
const meter = () => deviceOf('vinasmart-em310');
const normalMeter = { energy_kwh: 10, power_w: 2000, voltage_v: 230, power_factor: 0.95, relay_closed: true };

describe('on-delay', () => {
  it('a condition that does not hold for the whole on-delay raises nothing', () => {
    const { clock, signals, engine } = engineHarness();
    const device = meter();
    // voltage_low has a 5-minute on-delay: 4 minutes low, one normal reading, 4 minutes low again.
    for (const volts of [215, 215, 215, 215, 215, 230, 215, 215, 215, 215, 215]) {
      engine.reading(device, { ...normalMeter, voltage_v: volts }, clock.now());
      clock.advance(MIN);
    }
    expect(signals).toEqual([]);
  });

  it('a reading older than the last one judged moves nothing', () => {
    const { clock, signals, engine } = engineHarness();
    const device = meter();
    engine.reading(device, { ...normalMeter, relay_closed: false }, clock.now());
    engine.reading(device, { ...normalMeter, relay_closed: false }, clock.now() + 2 * MIN);
    expect(signals.map((s) => s.kind)).toEqual(['raise']);
    engine.reading(device, normalMeter, clock.now() + MIN);
    engine.reading(device, normalMeter, clock.now() - 10 * MIN);
    expect(signals.map((s) => s.kind)).toEqual(['raise']);
  });

  it('a reading without the field neither raises nor clears (a firmware without its quality block)', () => {
    const { clock, signals, engine } = engineHarness();
    const device = deviceOf('aquanet-ws200');
    for (let i = 0; i < 7; i++) {
      engine.reading(device, { pressure_bar: 3, turbidity_ntu: 4 }, clock.now());
      clock.advance(MIN);
    }
    expect(signals.map((s) => `${s.kind} ${s.ruleId}`)).toEqual(['raise turbidity_high']);
    for (let i = 0; i < 20; i++) {
      engine.reading(device, { pressure_bar: 3 }, clock.now());
      clock.advance(MIN);
    }
    expect(signals).toHaveLength(1);
  });
});

describe('signals', () => {
  it('carry the value and a message with units', () => {
    const { clock, signals, engine } = engineHarness();
    const device = deviceOf('aquanet-ws200');
    for (let i = 0; i < 4; i++) {
      engine.reading(device, { pressure_bar: 0.83 }, clock.now());
      clock.advance(MIN);
    }
    expect(signals[0]).toMatchObject({
      kind: 'raise',
      ruleId: 'pressure_low',
      severity: 'major',
      value: 0.83,
      message: 'pressure 0.83 bar below 1 bar',
    });
    for (let i = 0; i < 4; i++) {
      engine.reading(device, { pressure_bar: 3.1 }, clock.now());
      clock.advance(MIN);
    }
    expect(signals[1]).toMatchObject({
      kind: 'clear',
      value: 3.1,
      message: 'back to normal: pressure_bar 3.1 bar',
    });
  });
});

describe('desired state', () => {
  it('an open relay that a command opened is no alarm; one nobody commanded is', () => {
    let desired: Record<string, unknown> | null = { relay_closed: false };
    let lookups = 0;
    const { clock, signals, engine } = engineHarness({
      desired: () => {
        lookups++;
        return desired;
      },
    });
    const device = meter();
    for (let i = 0; i < 5; i++) {
      engine.reading(device, normalMeter, clock.now());
      clock.advance(MIN);
    }
    expect(lookups, 'no lookup while the reading part does not hold').toBe(0);
    for (let i = 0; i < 5; i++) {
      engine.reading(device, { ...normalMeter, relay_closed: false }, clock.now());
      clock.advance(MIN);
    }
    expect(signals).toEqual([]);
    desired = null;
    for (let i = 0; i < 3; i++) {
      engine.reading(device, { ...normalMeter, relay_closed: false }, clock.now());
      clock.advance(MIN);
    }
    expect(signals.map((s) => `${s.kind} ${s.ruleId}`)).toEqual(['raise relay_open_uncommanded']);
  });
});

describe('offline', () => {
  it('raises after 3 report intervals offline and clears when the device is back', () => {
    const { clock, signals, engine } = engineHarness();
    const device = deviceOf('lumina-slc300'); // reports every 60 s
    engine.presence(device, false, clock.now());
    clock.advance(179_000);
    expect(signals).toEqual([]);
    clock.advance(2000);
    expect(signals).toMatchObject([{ kind: 'raise', ruleId: 'offline', value: null }]);
    expect(signals[0].message).toBe('offline for more than 3 report intervals');
    engine.presence(device, true, clock.now());
    expect(signals.map((s) => s.kind)).toEqual(['raise', 'clear']);
  });

  it('a device back before the delay raises nothing; a Modbus model uses its poll interval', () => {
    const { clock, signals, engine } = engineHarness();
    const lamp = deviceOf('dragonlight-nc20'); // 300 s
    const station = deviceOf('hydrotek-ps500'); // polled every 10 s
    engine.presence(lamp, false, clock.now());
    engine.presence(station, false, clock.now());
    clock.advance(31_000);
    expect(signals.map((s) => s.deviceId)).toEqual([station.id]);
    engine.presence(lamp, true, clock.now());
    clock.advance(3600_000);
    expect(signals).toHaveLength(1);
  });

  it('after a restart, a device offline since before it raises at the right time', () => {
    const { clock, signals, engine } = engineHarness();
    const device = deviceOf('lumina-slc300');
    engine.presence(device, false, clock.now() - 170_000);
    clock.advance(9_000);
    expect(signals).toEqual([]);
    clock.advance(2_000);
    expect(signals).toHaveLength(1);
  });
});

describe('restore and invalidate', () => {
  it('an alarm open before a restart is not raised again and clears when normal', () => {
    const { clock, signals, engine } = engineHarness();
    const device = meter();
    engine.restore([{ deviceId: device.id, ruleId: 'voltage_high' }]);
    for (let i = 0; i < 10; i++) {
      engine.reading(device, { ...normalMeter, voltage_v: 250 }, clock.now());
      clock.advance(MIN);
    }
    expect(signals).toEqual([]);
    for (let i = 0; i < 7; i++) {
      engine.reading(device, normalMeter, clock.now());
      clock.advance(MIN);
    }
    expect(signals.map((s) => `${s.kind} ${s.ruleId}`)).toEqual(['clear voltage_high']);
  });

  it('an alarm restored open whose rule was disabled meanwhile is cleared', () => {
    const device = meter();
    const { clock, signals, engine } = engineHarness({
      overrides: [{ scope: 'device', key: device.id, ruleId: 'voltage_high', enabled: false }],
    });
    engine.restore([{ deviceId: device.id, ruleId: 'voltage_high' }]);
    engine.reading(device, normalMeter, clock.now());
    expect(signals).toMatchObject([
      { kind: 'clear', ruleId: 'voltage_high', message: 'rule disabled or removed' },
    ]);
  });

  it('an override that disables an active rule clears it; one that moves a threshold applies at once', () => {
    const { clock, signals, engine, overrides } = engineHarness();
    const device = meter();
    for (let i = 0; i < 7; i++) {
      engine.reading(device, { ...normalMeter, voltage_v: 244 }, clock.now());
      clock.advance(MIN);
    }
    expect(signals.map((s) => `${s.kind} ${s.ruleId}`)).toEqual(['raise voltage_high']);
    overrides.push({ scope: 'device', key: device.id, ruleId: 'voltage_high', enabled: false });
    engine.invalidate(device.id);
    expect(signals[1]).toMatchObject({
      kind: 'clear',
      ruleId: 'voltage_high',
      message: 'rule disabled or removed',
    });
    overrides.push({ scope: 'district', key: device.district, ruleId: 'voltage_low', params: { min: 225 } });
    engine.invalidate();
    for (let i = 0; i < 7; i++) {
      engine.reading(device, { ...normalMeter, voltage_v: 222 }, clock.now());
      clock.advance(MIN);
    }
    expect(signals[2]).toMatchObject({
      kind: 'raise',
      ruleId: 'voltage_low',
      message: 'voltage 222 V below 225 V (230 V -5 %)',
    });
  });
});

describe('moving means', () => {
  it('a PM2.5 band alarm follows the mean over its window, which an override can shorten', () => {
    const { clock, signals, engine } = engineHarness({
      overrides: [
        {
          scope: 'model',
          key: 'airviet-aq5',
          ruleId: 'aqi_bad',
          params: { windowMinutes: 10 },
          onDelaySeconds: 0,
        },
      ],
    });
    const device = deviceOf('airviet-aq5');
    const feed = (pm: number, minutes: number) => {
      for (let i = 0; i < minutes; i++) {
        engine.reading(device, { pm25_ugm3: pm }, clock.now());
        clock.advance(MIN);
      }
    };
    feed(40, 10);
    feed(200, 3); // the 10-minute mean passes 80 on the third minute
    expect(signals.map((s) => `${s.kind} ${s.ruleId}`)).toEqual(['raise aqi_bad']);
    expect(signals[0].message).toMatch(/^PM2\.5 10-minute mean 8\d(\.\d+)? µg\/m³ above 80 µg\/m³/);
    feed(40, 25);
    expect(signals.map((s) => `${s.kind} ${s.ruleId}`)).toEqual(['raise aqi_bad', 'clear aqi_bad']);
  });
});

describe('alarm management measures', () => {
  it('counts a chattering episode: 3 raises of one alarm within 60 s (ISA-18.2)', () => {
    const { clock, signals, engine } = engineHarness({
      overrides: [
        {
          scope: 'model',
          key: 'vinasmart-em310',
          ruleId: 'voltage_high',
          onDelaySeconds: 0,
          offDelaySeconds: 0,
          deadband: 0,
        },
      ],
    });
    const device = meter();
    for (let i = 0; i < 8; i++) {
      engine.reading(device, { ...normalMeter, voltage_v: i % 2 ? 230 : 245 }, clock.now());
      clock.advance(10_000);
    }
    expect(signals.filter((s) => s.kind === 'raise')).toHaveLength(4);
    expect(engine.stats().chattering).toBe(1);
  });

  it('the default deadband keeps the same oscillation from chattering', () => {
    const { clock, signals, engine } = engineHarness({
      overrides: [
        {
          scope: 'model',
          key: 'vinasmart-em310',
          ruleId: 'voltage_high',
          onDelaySeconds: 0,
          offDelaySeconds: 0,
        },
      ],
    });
    const device = meter();
    for (let i = 0; i < 8; i++) {
      engine.reading(device, { ...normalMeter, voltage_v: i % 2 ? 240.5 : 242 }, clock.now());
      clock.advance(10_000);
    }
    expect(signals).toHaveLength(1);
    expect(engine.stats().chattering).toBe(0);
  });

  it('counts a flood: more than 10 alarms in 10 minutes for one operator (EEMUA 191)', () => {
    const { clock, engine } = engineHarness();
    for (let d = 0; d < 11; d++) {
      const device = deviceOf('vinasmart-em310', { id: `m-${d}` });
      engine.reading(device, { ...normalMeter, relay_closed: false }, clock.now());
      engine.reading(device, { ...normalMeter, relay_closed: false }, clock.now() + 61_000);
      clock.advance(20_000);
    }
    expect(engine.stats()).toMatchObject({ raisedLast10Minutes: 11, flood: true, floods: 1 });
    clock.advance(11 * MIN);
    expect(engine.stats()).toMatchObject({ raisedLast10Minutes: 0, flood: false, floods: 1 });
  });
});

describe('the relay desired state', () => {
  it('an open relay is no alarm after a setRelay opened it, and is one again after a later close', () => {
    const commands: Array<{
      name: string;
      status: string;
      params: Record<string, unknown>;
      createdAt: number;
    }> = [];
    const { clock, signals, engine } = engineHarness({
      desired: alarmDesiredState({ desiredView: () => null, recentCommands: () => commands }),
    });
    const device = meter();
    const open = (minutes: number) => {
      for (let i = 0; i < minutes; i++) {
        engine.reading(device, { ...normalMeter, relay_closed: false }, clock.now());
        clock.advance(MIN);
      }
    };
    commands.push({ name: 'setRelay', status: 'succeeded', params: { closed: false }, createdAt: 1 });
    commands.push({ name: 'setRelay', status: 'failed', params: { closed: true }, createdAt: 2 });
    open(5);
    expect(signals).toEqual([]);
    commands.push({ name: 'setRelay', status: 'succeeded', params: { closed: true }, createdAt: 3 });
    open(3);
    expect(signals.map((s) => `${s.kind} ${s.ruleId}`)).toEqual(['raise relay_open_uncommanded']);
  });
});
