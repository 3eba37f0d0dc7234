import { type Logger, pino } from 'pino';

export type { Logger };

/** Secrets never reach the logs: the paths that could carry one are censored. */
export function createLogger(level = 'info'): Logger {
  return pino({
    level,
    redact: {
      paths: [
        'password',
        'secret',
        'token',
        '*.password',
        '*.secret',
        '*.token',
        'req.headers.authorization',
      ],
      censor: '[redacted]',
    },
  });
}
