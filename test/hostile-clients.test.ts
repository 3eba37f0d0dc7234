import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runHostileSuite } from '../simulators/hostile/driver.ts';
import { type GatewayProcess, spawnGateway } from './helpers/gateway-process.ts';

/**
 * Issue 8, "tests that must exist": generated hostile MQTT traffic against a live gateway process.
 * HOSTILE_SEED replays a run (the seed is printed); HOSTILE_SECONDS (default 60) or HOSTILE_RUNS
 * makes it longer or shorter.
 */
const seed = process.env.HOSTILE_SEED
  ? Number(process.env.HOSTILE_SEED)
  : (Date.now() ^ (process.pid << 16)) >>> 0;
const seconds = Number(process.env.HOSTILE_SECONDS ?? 60);
const runs = process.env.HOSTILE_RUNS ? Number(process.env.HOSTILE_RUNS) : undefined;
/** HOSTILE_HEALTHZ_STRICT=1: every /healthz answer over 100 ms fails, even on a starved machine. */
const strict = process.env.HOSTILE_HEALTHZ_STRICT === '1';
const ADMIN = 'hostile-suite-admin-token';

describe('hostile clients against a live gateway process', () => {
  let gw: GatewayProcess;
  let dataDir: string;
  let pid: number | undefined;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'citygate-hostile-'));
    gw = await spawnGateway({ CITYGATE_DATA_DIR: dataDir, CITYGATE_ADMIN_TOKEN: ADMIN, LOG_LEVEL: 'warn' });
    pid = gw.proc.pid;
  });
  afterAll(async () => {
    await gw?.kill();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it(
    'stays up, answers /healthz within 100 ms, and accounts for every acknowledged reading',
    async () => {
      process.stdout.write(`hostile clients: HOSTILE_SEED=${seed} HOSTILE_SECONDS=${seconds}\n`);
      const result = await runHostileSuite(
        {
          mqttUrl: gw.mqttUrl,
          httpUrl: gw.httpUrl,
          adminToken: ADMIN,
          dataDir,
          pid,
          gone: () =>
            gw.proc.exitCode !== null || gw.proc.signalCode !== null
              ? `pid ${pid} exited (code ${gw.proc.exitCode}, signal ${gw.proc.signalCode}): ${gw.output().slice(-1500)}`
              : null,
        },
        { seed, seconds, runs, healthzStrict: strict, log: (line) => process.stdout.write(`${line}\n`) },
      );
      if (result.counterexample) process.stdout.write(`${result.counterexample.slice(0, 4000)}\n`);
      if (result.violations.length) process.stdout.write(`gateway output:\n${gw.output().slice(-4000)}\n`);
      expect(result.violations, `HOSTILE_SEED=${seed}`).toEqual([]);
      expect(gw.proc.pid).toBe(pid);
      expect(gw.proc.exitCode).toBeNull();
      expect(result.runs).toBeGreaterThan(0);
    },
    (runs ? 600 : seconds + 120) * 1000,
  );
});
