import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * `<data dir>/http-url`: where a running gateway of that data directory answers, beside its
 * `admin-token`, so the CLI finds a demo that had to take another port than 8080.
 */
export const URL_FILE = 'http-url';

export function writeUrlFile(dataDir: string, url: string): void {
  writeFileSync(join(dataDir, URL_FILE), `${url}\n`, { mode: 0o600 });
}

export function removeUrlFile(dataDir: string): void {
  rmSync(join(dataDir, URL_FILE), { force: true });
}

export function readUrlFile(dataDir: string): string | undefined {
  const file = join(dataDir, URL_FILE);
  return existsSync(file) ? readFileSync(file, 'utf8').trim() || undefined : undefined;
}
