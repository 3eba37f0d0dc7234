import createError from '@fastify/error';

// Every history error code, declared once. A retired code is never reused.
/** A history or summary request the API refuses; the message names the parameter. */
export const HistoryQueryError = createError<'HIST_ERR_QUERY_INVALID', [string]>(
  'HIST_ERR_QUERY_INVALID',
  '%s',
  400,
);
/** The history source (InfluxDB) did not answer or refused the query; nothing is wrong with the request. */
export const HistorySourceError = createError<'HIST_ERR_SOURCE_FAILED', [string, string]>(
  'HIST_ERR_SOURCE_FAILED',
  'the history source %s failed: %s',
  502,
);
