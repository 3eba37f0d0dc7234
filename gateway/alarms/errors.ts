import createError from '@fastify/error';

// Every alarm error code, declared once. A retired code is never reused.
export const AlarmNotFoundError = createError<'ALM_ERR_NOT_FOUND', [string]>(
  'ALM_ERR_NOT_FOUND',
  'alarm %s not found',
  404,
);
export const NotAcknowledgeableError = createError<'ALM_ERR_NOT_ACKNOWLEDGEABLE', [string, string]>(
  'ALM_ERR_NOT_ACKNOWLEDGEABLE',
  'alarm %s is %s: only an unacknowledged alarm can be acknowledged',
  409,
);
export const AlarmClosedError = createError<'ALM_ERR_CLOSED', [string, string]>(
  'ALM_ERR_CLOSED',
  'alarm %s is closed: it cannot be %s',
  409,
);
export const NotShelvedError = createError<'ALM_ERR_NOT_SHELVED', [string]>(
  'ALM_ERR_NOT_SHELVED',
  'alarm %s is not shelved',
  409,
);
export const OverrideNotFoundError = createError<'ALM_ERR_OVERRIDE_NOT_FOUND', [string, string, string]>(
  'ALM_ERR_OVERRIDE_NOT_FOUND',
  'no override of rule %s for %s %s',
  404,
);
export const OverrideInvalidError = createError<'ALM_ERR_OVERRIDE_INVALID', [string]>(
  'ALM_ERR_OVERRIDE_INVALID',
  '%s',
  400,
);
export const AlarmBusyError = createError<'ALM_ERR_BUSY', [string]>(
  'ALM_ERR_BUSY',
  'alarm %s kept changing under this request (other nodes moving it); try again',
  409,
);
