import { z } from 'zod';
import { FAMILIES } from '../../firmware-specs/families.ts';
import { pageLimit } from './pagination.ts';

export const familyParam = z.enum(FAMILIES as [string, ...string[]]);

export const errorResponse = z.object({
  statusCode: z.number(),
  code: z.string(),
  error: z.string(),
  message: z.string(),
  details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

const deviceId = z
  .string()
  .min(1)
  .max(128)
  .regex(
    /^[A-Za-z0-9._:-]+$/,
    'letters, digits, dot, underscore, colon and dash only (it is an MQTT topic level)',
  );

export const modbusEndpoint = z.object({
  host: z.string().min(1).max(253),
  port: z.number().int().min(1).max(65535).default(502),
  unitId: z.number().int().min(0).max(255).default(1),
});

export const newDeviceBody = z.object({
  id: deviceId,
  model: z.string().min(1).max(100),
  firmware: z.string().regex(/^\d+(\.\d+){0,3}$/, 'a version like 1.4.2'),
  district: z.string().min(1).max(100),
  ward: z.string().min(1).max(100),
  lat: z.number().min(-90).max(90).optional(),
  lon: z.number().min(-180).max(180).optional(),
  tags: z.array(z.string().min(1).max(64)).max(32).optional(),
  modbus: modbusEndpoint.optional(),
});

export const DEVICE_STATUSES = ['online', 'offline', 'disabled'] as const;

export const deviceView = z.object({
  id: z.string(),
  model: z.string(),
  family: z.string(),
  firmware: z.string(),
  district: z.string(),
  ward: z.string(),
  lat: z.number().nullable(),
  lon: z.number().nullable(),
  tags: z.array(z.string()),
  enabled: z.boolean(),
  status: z.enum(DEVICE_STATUSES),
  modbus: modbusEndpoint.nullable(),
  createdAt: z.string(),
  lastSeenAt: z.string().nullable(),
  lastReading: z.record(z.string(), z.unknown()).nullable(),
  lastReadingAt: z.string().nullable(),
  reportedState: z.record(z.string(), z.unknown()).nullable(),
  desiredState: z.record(z.string(), z.unknown()).nullable().optional(),
  decommissionedAt: z.string().nullable().optional(),
});

export const deviceListQuery = z.object({
  family: familyParam.optional(),
  district: z.string().optional(),
  ward: z.string().optional(),
  tag: z.string().optional(),
  model: z.string().optional(),
  status: z.enum(DEVICE_STATUSES).optional(),
  decommissioned: z
    .enum(['true', 'false'])
    .optional()
    .transform((v) => v === 'true')
    .describe('list only decommissioned devices (they are left out otherwise)'),
  limit: pageLimit,
  offset: z.coerce.number().int().min(0).default(0),
});

export const idParam = z.object({ id: z.string().min(1) });

/** Enable/disable, and the lifecycle changes of issue 12 (firmware, place, tags); at least one field. */
export const patchDeviceBody = z
  .object({
    enabled: z.boolean().optional(),
    firmware: newDeviceBody.shape.firmware.optional(),
    district: newDeviceBody.shape.district.optional(),
    ward: newDeviceBody.shape.ward.optional(),
    lat: z.number().min(-90).max(90).nullable().optional(),
    lon: z.number().min(-180).max(180).nullable().optional(),
    tags: z.array(z.string().min(1).max(64)).max(32).optional(),
  })
  .refine((b) => Object.values(b).some((v) => v !== undefined), 'give at least one field to change');

export const quarantineQuery = z.object({
  deviceId: z.string().optional(),
  limit: pageLimit,
  beforeId: z.coerce.number().int().positive().optional(),
});

export const deadLetterQuery = z.object({
  limit: pageLimit,
  beforeId: z.coerce.number().int().positive().optional(),
});

export const quarantineView = z.object({
  id: z.number(),
  deviceId: z.string(),
  topic: z.string(),
  payload: z.string(),
  payloadEncoding: z.enum(['utf8', 'base64']),
  size: z.number(),
  truncated: z.boolean(),
  sha256: z.string().nullable(),
  reasons: z.array(z.object({ path: z.string(), message: z.string() })),
  receivedAt: z.string(),
});

export const newTokenBody = z.object({
  name: z.string().min(1).max(100),
  role: z.enum(['viewer', 'operator', 'admin']),
});
