import createError from '@fastify/error';

export const UnknownCommandError = createError<'CMD_ERR_UNKNOWN_COMMAND', [string, string, string]>(
  'CMD_ERR_UNKNOWN_COMMAND',
  'model %s has no command "%s" (it has: %s)',
  400,
);
export const ModelNotLoadedError = createError<'CMD_ERR_MODEL_NOT_LOADED', [string, string]>(
  'CMD_ERR_MODEL_NOT_LOADED',
  'device %s has model %s, which this gateway has not loaded: it cannot take commands',
  409,
);
export const CommandParamsError = createError<'CMD_ERR_PARAMS_INVALID', [string]>(
  'CMD_ERR_PARAMS_INVALID',
  '%s',
  400,
);
export const ConfirmRequiredError = createError<'CMD_ERR_CONFIRM_REQUIRED', [string, string]>(
  'CMD_ERR_CONFIRM_REQUIRED',
  '%s with these params needs "confirm": true (%s)',
  400,
);
export const CommandRateLimitedError = createError<'CMD_ERR_RATE_LIMITED', [string, number, number]>(
  'CMD_ERR_RATE_LIMITED',
  '%s may run at most once per %d s on this device; try again in %d s',
  429,
);
export const CommandNotFoundError = createError<'CMD_ERR_NOT_FOUND', [string]>(
  'CMD_ERR_NOT_FOUND',
  'command %s not found',
  404,
);
export const BulkNotFoundError = createError<'CMD_ERR_BULK_NOT_FOUND', [string]>(
  'CMD_ERR_BULK_NOT_FOUND',
  'bulk command %s not found',
  404,
);
export const NotCancellableError = createError<'CMD_ERR_NOT_CANCELLABLE', [string, string]>(
  'CMD_ERR_NOT_CANCELLABLE',
  'command %s is %s: only a queued command can be cancelled',
  409,
);
export const NoDevicesSelectedError = createError<'CMD_ERR_NO_DEVICES', [string]>(
  'CMD_ERR_NO_DEVICES',
  'no device to send to: %s',
  400,
);
