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

/** Largest firmware image a device is asked to fetch; the gateway's upload bound is smaller. */
export const OTA_MAX_BYTES = 1024 ** 3;

/**
 * Firmware update over the air (issue 12): the device downloads the image over HTTP (resuming
 * with Range), checks its sha256, installs it, reboots, and answers from the new firmware with
 * `{"ok":true,"result":{"firmware":"<version>"}}`. Progress comes as reported state
 * (`ota_status`, `ota_progress_pct`, `ota_command_id`; docs/design.md, "Firmware campaigns").
 */
export const otaUpdate = (): CommandSpec =>
  ({
    mode: 'action',
    params: z
      .object({
        url: z.url({ protocol: /^https?$/ }).max(2048),
        sha256: z.string().regex(/^[0-9a-f]{64}$/, '64 lowercase hex digits'),
        size: z.number().int().min(1).max(OTA_MAX_BYTES),
        version: z.string().regex(/^\d+(\.\d+){0,3}$/, 'a version like 2.1.0'),
      })
      .strict(),
    example: {
      url: 'https://gateway.example/api/firmware/fw_0123/download?token=abc',
      sha256: 'a'.repeat(64),
      size: 524288,
      version: '2.1.0',
    },
    badExample: { url: 'file:///etc/passwd', sha256: 'x', size: 0, version: 'latest' },
    verifyResult: (p: { version: string }, result: Record<string, unknown>) =>
      result.firmware === p.version
        ? undefined
        : `device came back on firmware ${String(result.firmware ?? 'unknown').slice(0, 40)}, not ${p.version}`,
    description: 'Download a firmware image, check its sha256, install it and reboot into it',
  }) as CommandSpec;
