import type { Logger } from './logger.ts';

/** sysexits.h EX_SOFTWARE, "an internal software error": a supervisor restarts on it. */
export const EXIT_UNEXPECTED = 70;

/**
 * An exception nothing caught, or a rejection nobody handled, leaves the process in a state no
 * code was written for (Node's own advice: do not resume after 'uncaughtException'). The gateway
 * logs it at fatal with the error, tries a graceful stop for at most `graceMs` (the registry's
 * write-behind is flushed, devices see a clean close), and exits EXIT_UNEXPECTED so systemd's
 * Restart=on-failure starts a fresh one. Nothing a device was told is safe is lost either way: a
 * PUBACK leaves only after the outbox commit, so a stop that hangs or fails again is simply cut.
 */
export function exitOnUnexpectedError(opts: {
  log: Logger;
  stop: () => Promise<void>;
  graceMs: number;
  /** A fault to wait out instead (a full disk, see disk-guard.ts): true when it took the error. */
  waitOut?: (err: unknown) => boolean;
  exit?: (code: number) => void;
}): void {
  const { log, stop, graceMs } = opts;
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  let failing = false;
  const onError = (kind: 'uncaughtException' | 'unhandledRejection') => (err: unknown) => {
    // A write that found the disk full in a path that did not expect it: SQLite rolled it back;
    // waitOut marks the disk full (not ready, retried each second) and the gateway waits for
    // space. A restart would only find the same full disk.
    if (!failing && opts.waitOut?.(err)) {
      log.error({ err, kind }, 'disk full in an unguarded write; waiting for space instead of exiting');
      return;
    }
    if (failing) {
      log.fatal({ err, kind }, 'another unexpected error while stopping; exiting now');
      return exit(EXIT_UNEXPECTED);
    }
    failing = true;
    // Any way the process ends from here, it ends as a failure.
    process.exitCode = EXIT_UNEXPECTED;
    log.fatal(
      { err, kind, graceMs },
      'unexpected error; stopping so that the supervisor restarts the gateway',
    );
    setTimeout(() => {
      log.fatal({ graceMs }, 'graceful stop did not finish in time; exiting');
      exit(EXIT_UNEXPECTED);
    }, graceMs);
    stop().then(
      () => exit(EXIT_UNEXPECTED),
      (stopErr: unknown) => {
        log.fatal({ err: stopErr }, 'graceful stop failed; exiting');
        exit(EXIT_UNEXPECTED);
      },
    );
  };
  process.on('uncaughtException', onError('uncaughtException'));
  process.on('unhandledRejection', onError('unhandledRejection'));
}
