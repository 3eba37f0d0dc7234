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
