import createError from '@fastify/error';

export const DeviceNotFoundError = createError<'REG_ERR_DEVICE_NOT_FOUND', [string]>(
  'REG_ERR_DEVICE_NOT_FOUND',
  'device %s not found',
  404,
);
export const DeviceExistsError = createError<'REG_ERR_DEVICE_EXISTS', [string]>(
  'REG_ERR_DEVICE_EXISTS',
  'device %s already exists',
  409,
);
export const ModelNotFoundError = createError<'REG_ERR_MODEL_NOT_FOUND', [string]>(
  'REG_ERR_MODEL_NOT_FOUND',
  'model %s not found',
  404,
);
export const FirmwareUnsupportedError = createError<'REG_ERR_FIRMWARE_UNSUPPORTED', [string, string, string]>(
  'REG_ERR_FIRMWARE_UNSUPPORTED',
  'model %s supports no firmware %s (supported: %s)',
  400,
);
export const ModbusConfigError = createError<'REG_ERR_MODBUS_CONFIG', [string]>(
  'REG_ERR_MODBUS_CONFIG',
  '%s',
  400,
);
export const AdminTokenRevokedError = createError<'REG_ERR_ADMIN_TOKEN_REVOKED', [string, string, string]>(
  'REG_ERR_ADMIN_TOKEN_REVOKED',
  'the admin token from %s was revoked (%s); %s',
  500,
);
export const MigrationError = createError<'REG_ERR_MIGRATION', [number, string]>(
  'REG_ERR_MIGRATION',
  'migration %d failed: %s',
  500,
);
export const ScryptQueueFullError = createError<'REG_ERR_AUTH_BUSY', [number]>(
  'REG_ERR_AUTH_BUSY',
  'credential checks queue is full (%d waiting); try again later',
  503,
);
export const DeviceDecommissionedError = createError<'REG_ERR_DEVICE_DECOMMISSIONED', [string, string]>(
  'REG_ERR_DEVICE_DECOMMISSIONED',
  'device %s was decommissioned at %s; its id is not reused (register the replacement under a new id)',
  409,
);
export const DeviceHasNoSecretError = createError<'REG_ERR_NO_SECRET', [string]>(
  'REG_ERR_NO_SECRET',
  'device %s is polled over Modbus and has no MQTT secret to rotate',
  400,
);
export const ImportInvalidError = createError<'REG_ERR_IMPORT_INVALID', [number, number]>(
  'REG_ERR_IMPORT_INVALID',
  '%d of %d rows are invalid; nothing was imported (fix them, or import the valid rows with partial)',
  400,
);
export const AuditWriteError = createError<'REG_ERR_AUDIT_WRITE', [number, string]>(
  'REG_ERR_AUDIT_WRITE',
  '%d audit entries are not written yet (retried every second): %s',
  503,
);
