import createError from '@fastify/error';

// Errors of the Modbus adapter and its pure helpers. A code once retired is not reused.

export const MbErrBadRegisterCount = createError<[string, number, number]>(
  'MB_ERR_BAD_REGISTER_COUNT',
  'Register %s needs %d words, got %d',
  500,
);
export const MbErrBadWord = createError<[unknown]>(
  'MB_ERR_BAD_WORD',
  'A register word must be an integer 0..65535, got %s',
  500,
);
export const MbErrBadBit = createError<[unknown]>(
  'MB_ERR_BAD_BIT',
  'A coil or discrete input must be a boolean or 0/1, got %s',
  500,
);
export const MbErrUnsupportedType = createError<[string, string]>(
  'MB_ERR_UNSUPPORTED_TYPE',
  'Type %s cannot be used here: %s',
  500,
);
export const MbErrValueOutOfRange = createError<[number, string]>(
  'MB_ERR_VALUE_OUT_OF_RANGE',
  'Value %s does not fit register type %s',
  400,
);
export const MbErrResponseMismatch = createError<[number, number]>(
  'MB_ERR_RESPONSE_MISMATCH',
  '%d read requests but %d responses',
  500,
);
export const MbErrShortResponse = createError<[string, number, number, number]>(
  'MB_ERR_SHORT_RESPONSE',
  'Read of %s at %d returned %d values, expected %d',
  502,
);
export const MbErrBadReadLimit = createError<[string, number]>(
  'MB_ERR_BAD_READ_LIMIT',
  'Read limit %s must be a positive integer, got %d',
  500,
);

// Adapter runtime: talking to devices over TCP.

/** Exception codes of Modbus Application Protocol V1.1b3, 7, as the reasons a command fails with. */
export const MODBUS_EXCEPTIONS = {
  1: 'illegal function',
  2: 'illegal data address',
  3: 'illegal data value',
  4: 'server device failure',
  5: 'acknowledge',
  6: 'server device busy',
  8: 'memory parity error',
  10: 'gateway path unavailable',
  11: 'gateway target device failed to respond',
} as const;

export const MbErrException = createError<[number, string]>(
  'MB_ERR_EXCEPTION',
  'Modbus exception %d (%s)',
  502,
);
export const MbErrTimeout = createError<[string, number, number]>(
  'MB_ERR_TIMEOUT',
  'No answer from %s unit %d within %d ms',
  504,
);
export const MbErrNotConnected = createError<[string, string]>(
  'MB_ERR_NOT_CONNECTED',
  'No connection to %s: %s',
  503,
);
export const MbErrConnectionLost = createError<[string, string]>(
  'MB_ERR_CONNECTION_LOST',
  'Connection to %s lost: %s',
  503,
);
export const MbErrClosed = createError<[string]>('MB_ERR_CLOSED', 'Modbus connection to %s is closed', 503);
export const MbErrReadbackMismatch = createError<[string, string, string]>(
  'MB_ERR_READBACK_MISMATCH',
  'Read-back of %s gave %s, expected %s',
  502,
);
export const MbErrUnknownCommand = createError<[string, string]>(
  'MB_ERR_UNKNOWN_COMMAND',
  'Command %s is not known to model %s',
  400,
);
export const MbErrBadParams = createError<[string, string]>(
  'MB_ERR_BAD_PARAMS',
  'Command %s: invalid params: %s',
  400,
);
export const MbErrNotServed = createError<[string]>(
  'MB_ERR_NOT_SERVED',
  'Device %s is not served by the Modbus adapter (stopped, disabled or not a Modbus device)',
  409,
);
