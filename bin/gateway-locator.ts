import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readUrlFile } from '../gateway/url-file.ts';

export const DEFAULT_URL = 'http://127.0.0.1:8080';

export interface Located {
  url: string;
  token?: string;
  /** Where the URL came from, for an error message that says why this address was tried. */
  from: string;
}

/**
 * The gateway the CLI talks to: --url/--token (or CITYGATE_URL/CITYGATE_TOKEN) when given; else
 * the data directory of a running gateway (CITYGATE_DATA_DIR, else ./data, else ./data/demo of
 * `npm run demo`), whose `http-url` and `admin-token` files say where it answers and as whom.
 */
export function locateGateway(given: { url?: string; token?: string }, env = process.env): Located {
  const dirs = env.CITYGATE_DATA_DIR
    ? [resolve(env.CITYGATE_DATA_DIR)]
    : [resolve('data'), resolve('data/demo')];
  const running = dirs.find((d) => readUrlFile(d) !== undefined);
  const dir = running ?? dirs.find((d) => existsSync(join(d, 'admin-token'))) ?? dirs[0];
  const tokenFile = join(dir, 'admin-token');
  const token = given.token ?? (existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8').trim() : undefined);
  if (given.url) return { url: given.url, token, from: '--url' };
  const written = readUrlFile(dir);
  if (written) return { url: written, token, from: join(dir, 'http-url') };
  return { url: DEFAULT_URL, token, from: 'the default' };
}
