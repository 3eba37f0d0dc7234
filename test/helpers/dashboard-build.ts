import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIST = join(ROOT, 'dashboard/dist/index.html');

/** The newest modification time under a folder (the dashboard's sources). */
function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/**
 * Builds dashboard/dist when it is missing or older than its sources (`npm ci` builds it through
 * `prepare`; this covers a test run after an edit). Called from the global set-up, once a run.
 */
export async function ensureDashboardBuilt(): Promise<void> {
  const sources = Math.max(
    newest(join(ROOT, 'dashboard/src')),
    statSync(join(ROOT, 'dashboard/index.html')).mtimeMs,
  );
  if (existsSync(DIST) && statSync(DIST).mtimeMs >= sources) return;
  const { build } = await import('vite');
  await build({ configFile: join(ROOT, 'dashboard/vite.config.ts'), logLevel: 'warn' });
}
