import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCliWithEnv } from './helpers/cli.ts';

const listen = (port = 0) =>
  new Promise<Server>((resolve) => {
    const s = createServer();
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
const portOf = (s: Server) => (s.address() as { port: number }).port;

describe('npm run demo when its ports are taken', () => {
  let dataDir: string;
  let demo: ChildProcess;
  let out = '';
  let takenHttp: Server;
  let takenMqtt: Server;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'citygate-demo-'));
    takenHttp = await listen();
    takenMqtt = await listen();
    demo = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'simulators/demo.ts',
        '--per-family',
        'streetlight=3',
        '--modbus',
        '',
        '--status',
        '600',
        '--commands',
        '600',
        '--duration',
        '120',
      ],
      {
        env: {
          ...process.env,
          CITYGATE_DATA_DIR: dataDir,
          HTTP_PORT: String(portOf(takenHttp)),
          MQTT_PORT: String(portOf(takenMqtt)),
          LOG_LEVEL: 'error',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    demo.stdout?.on('data', (d) => (out += d));
    demo.stderr?.on('data', (d) => (out += d));
    await vi.waitFor(
      () => {
        if (demo.exitCode !== null) throw new Error(`demo exited ${demo.exitCode}: ${out}`);
        if (!out.includes('Ctrl-C stops.')) throw new Error(`demo not up yet: ${out}`);
      },
      { timeout: 45_000, interval: 200 },
    );
  }, 60_000);
  afterAll(async () => {
    if (demo.exitCode === null) {
      demo.kill('SIGKILL');
      await new Promise((r) => demo.once('exit', r));
    }
    takenHttp.close();
    takenMqtt.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('names each port actually taken, blames nobody else, and takes free ones', () => {
    expect(out).toContain(`HTTP port ${portOf(takenHttp)} is taken by another process`);
    expect(out).toContain(`MQTT port ${portOf(takenMqtt)} is taken by another process`);
    expect(out).not.toMatch(/Mosquitto|1883/);
    const url = out.match(/HTTP API\s+(\S+)/)?.[1];
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(url).not.toContain(`:${portOf(takenHttp)}`);
    expect(readFileSync(join(dataDir, 'http-url'), 'utf8').trim()).toBe(url);
  });

  it('the CLI finds the demo by its data directory, without --url or a token', async () => {
    const res = await runCliWithEnv({ CITYGATE_DATA_DIR: dataDir }, ['devices']);
    expect(res.err).toBe('');
    expect(res.code).toBe(0);
    expect(res.out).toMatch(/^sl-/m);
    expect(res.out).toMatch(/3 of 3/);
  });

  it('prints the exact CLI line, and that line works', async () => {
    const line = out.match(/^\s+(npx tsx bin\/citygate\.ts --url .*)$/m)?.[1];
    expect(line).toBeDefined();
    const args = line!.split(/\s+/).slice(3);
    const res = await runCliWithEnv({}, args);
    expect(res.code).toBe(0);
    expect(res.out).toMatch(/3 of 3/);
  });

  it('removes its URL file when it stops', async () => {
    demo.kill('SIGINT');
    await new Promise((r) => demo.once('exit', r));
    expect(existsSync(join(dataDir, 'http-url'))).toBe(false);
    expect(existsSync(join(dataDir, 'admin-token'))).toBe(true);
  });
});
