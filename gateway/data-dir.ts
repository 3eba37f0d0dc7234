import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import type { Logger } from './logger.ts';

// The data directory holds device secret hashes, token digests and every reading: the gateway's
// user only (issue 8, "secrets at rest"). Modes are set explicitly, whatever the umask.
const DIR_MODE = 0o700;
const FILE_MODE = 0o600;

/** Creates the data directory 0700, or tightens an existing wider one (with a warning). */
export function prepareDataDir(dir: string, log: Logger): void {
  mkdirSync(dir, { recursive: true, mode: DIR_MODE });
  tighten(dir, DIR_MODE, log);
}

/**
 * Makes sure a SQLite database file exists 0600 before SQLite opens it: SQLite gives its -wal and
 * -shm files the mode of the database file, so they follow. Leftovers of an older start are
 * tightened too.
 */
export function privateDbFile(file: string, log: Logger): string {
  if (!existsSync(file)) closeSync(openSync(file, 'a', FILE_MODE));
  for (const f of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(f)) tighten(f, FILE_MODE, log);
  return file;
}

/** A file of an older start (the admin-token file) made private, with a warning when it was not. */
export function privateFile(file: string, log: Logger): string {
  tighten(file, FILE_MODE, log);
  return file;
}

function tighten(path: string, mode: number, log: Logger): void {
  const was = statSync(path).mode & 0o777;
  if ((was & ~mode) === 0) return;
  try {
    chmodSync(path, mode);
  } catch (err) {
    // Not ours to change (another owner): say so loudly, but a city keeps its gateway.
    log.error(
      { path, was: `0${was.toString(8)}`, err },
      'data directory is readable by other users and cannot be tightened',
    );
    return;
  }
  log.warn(
    { path, was: `0${was.toString(8)}`, now: `0${mode.toString(8)}` },
    'data directory was readable by other users; tightened',
  );
}
