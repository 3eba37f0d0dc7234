import createError from '@fastify/error';

// Every lighting error code, declared once. A retired code is never reused.
export const InvalidPositionError = createError<'LGT_ERR_POSITION_INVALID', [string]>(
  'LGT_ERR_POSITION_INVALID',
  'invalid lamp position: %s',
  400,
);
export const NoSunEventError = createError<'LGT_ERR_NO_SUN_EVENT', [string]>(
  'LGT_ERR_NO_SUN_EVENT',
  'no sun event: %s',
  422,
);
export const ProgramNotFoundError = createError<'LGT_ERR_PROGRAM_NOT_FOUND', [string]>(
  'LGT_ERR_PROGRAM_NOT_FOUND',
  'lighting program %s not found',
  404,
);
export const ProgramInUseError = createError<'LGT_ERR_PROGRAM_IN_USE', [string, string]>(
  'LGT_ERR_PROGRAM_IN_USE',
  'lighting program %s is used by the calendar (%s)',
  409,
);
export const CalendarInvalidError = createError<'LGT_ERR_CALENDAR_INVALID', [string]>(
  'LGT_ERR_CALENDAR_INVALID',
  'calendar: %s',
  400,
);
export const GroupNotFoundError = createError<'LGT_ERR_GROUP_NOT_FOUND', [string]>(
  'LGT_ERR_GROUP_NOT_FOUND',
  'lighting group %s not found',
  404,
);
export const OverrideNotFoundError = createError<'LGT_ERR_OVERRIDE_NOT_FOUND', [string]>(
  'LGT_ERR_OVERRIDE_NOT_FOUND',
  'lighting override %s not found or already ended',
  404,
);
export const NoLampsError = createError<'LGT_ERR_NO_LAMPS', [string]>(
  'LGT_ERR_NO_LAMPS',
  'no controllable lamp matches: %s',
  400,
);
export const SchedulerOffError = createError<'LGT_ERR_SCHEDULER_OFF', [string]>(
  'LGT_ERR_SCHEDULER_OFF',
  'the lighting scheduler is off (LIGHTING_SCHEDULER=off): %s',
  409,
);
