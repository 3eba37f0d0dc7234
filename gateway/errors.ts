import createError from '@fastify/error';

// Every gateway error code, declared once. A retired code is never reused.
export const GatewayConfigError = createError<'GW_ERR_CONFIG', [string]>(
  'GW_ERR_CONFIG',
  'invalid configuration: %s',
  500,
);
export const PortInUseError = createError<'GW_ERR_PORT_IN_USE', [string, number]>(
  'GW_ERR_PORT_IN_USE',
  '%s port %d is already in use by another process; set another port or stop that process',
  500,
);
export const AuthRequiredError = createError<'GW_ERR_AUTH_REQUIRED', []>(
  'GW_ERR_AUTH_REQUIRED',
  'a bearer token is required',
  401,
);
export const AuthInvalidError = createError<'GW_ERR_AUTH_INVALID', []>(
  'GW_ERR_AUTH_INVALID',
  'the bearer token is not valid',
  401,
);
export const ForbiddenError = createError<'GW_ERR_FORBIDDEN', [string, string]>(
  'GW_ERR_FORBIDDEN',
  'role %s may not %s',
  403,
);
export const NotFoundError = createError<'GW_ERR_NOT_FOUND', [string, string]>(
  'GW_ERR_NOT_FOUND',
  '%s %s not found',
  404,
);
export const BackpressureError = createError<'GW_ERR_OUTBOX_FULL', [number]>(
  'GW_ERR_OUTBOX_FULL',
  'outbox is past its disk bound (%d bytes); reading not acknowledged',
  503,
);
export const DiskFullError = createError<'GW_ERR_DISK_FULL', [string]>(
  'GW_ERR_DISK_FULL',
  'the data directory is full (%s); nothing was written, free disk space and retry',
  507,
);
