import { z } from 'zod';
import type { CommandSpec, ModbusWrite } from './define-device.ts';

/**
 * The family commands of docs/design.md, declared once and shared by the models. A model that
 * differs (another interval guard, a Modbus write) passes options.
 */
export const setDimming = (modbus?: ModbusWrite): CommandSpec =>
  ({
    mode: 'state',
    params: z.object({ level: z.number().int().min(0).max(100).meta({ unit: '%' }) }),
    example: { level: 40 },
    badExample: { level: 140 },
    desired: (p: { level: number }) => ({ dim_percent: p.level }),
    modbus,
    description: 'Dim the lamp to a level in percent',
  }) as CommandSpec;

export const switchLamp = (modbus?: ModbusWrite): CommandSpec =>
  ({
    mode: 'state',
    params: z.object({ on: z.boolean() }),
    example: { on: true },
    badExample: { on: 'yes' },
    desired: (p: { on: boolean }) => ({ lamp_on: p.on }),
    modbus,
    description: 'Switch the lamp on or off',
  }) as CommandSpec;

export const setRelay = (modbus?: ModbusWrite): CommandSpec =>
  ({
    mode: 'action',
    params: z.object({ closed: z.boolean() }),
    example: { closed: true },
    badExample: { closed: 1 },
    // Opening the relay disconnects a customer.
    guards: { confirmWhen: { closed: false } },
    modbus,
    description: 'Close (connect) or open (disconnect) the supply relay',
  }) as CommandSpec;

export const readNow = (): CommandSpec => ({
  mode: 'action',
  params: z.object({}).strict(),
  example: {},
  badExample: { now: 1 },
  description: 'Ask the meter for a reading now',
});

export const setValve = (opts: { minIntervalSeconds?: number; modbus?: ModbusWrite } = {}): CommandSpec =>
  ({
    mode: 'state',
    params: z.object({ percent: z.number().min(0).max(100).meta({ unit: '%' }) }),
    example: { percent: 50 },
    badExample: { percent: -5 },
    desired: (p: { percent: number }) => ({ valve_percent: p.percent }),
    // Water hammer: a valve moves at most once per interval.
    guards: { minIntervalSeconds: opts.minIntervalSeconds ?? 30 },
    modbus: opts.modbus,
    description: 'Move the valve to an opening in percent',
  }) as CommandSpec;

export const setReportInterval = (): CommandSpec =>
  ({
    mode: 'state',
    params: z.object({ seconds: z.number().int().min(5).max(3600).meta({ unit: 's' }) }),
    example: { seconds: 60 },
    badExample: { seconds: 0 },
    // A setting the device reports in its state (families.ts familySettings), so it reconciles.
    desired: (p: { seconds: number }) => ({ report_interval_seconds: p.seconds }),
    description: 'Set how often the sensor reports, in seconds',
  }) as CommandSpec;
