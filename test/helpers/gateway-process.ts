import { type ChildProcess, spawn } from 'node:child_process';
import { freePort } from './victoria.ts';

/** The gateway as its own process (`gateway/main.ts`), for crash tests: it can be SIGKILLed. */
export interface GatewayProcess {
  proc: ChildProcess;
  mqttUrl: string;
  httpUrl: string;
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export async function spawnGateway(env: Record<string, string>): Promise<GatewayProcess> {
  const mqttPort = Number(env.MQTT_PORT ?? (await freePort()));
  const httpPort = Number(env.HTTP_PORT ?? (await freePort()));
  let out = '';
  const proc = spawn(process.execPath, ['--import', 'tsx', 'gateway/main.ts'], {
    env: {
      ...process.env,
      LOG_LEVEL: 'info',
      MQTT_HOST: '127.0.0.1',
      HTTP_HOST: '127.0.0.1',
      ...env,
      MQTT_PORT: String(mqttPort),
      HTTP_PORT: String(httpPort),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout?.on('data', (d) => (out += d));
  proc.stderr?.on('data', (d) => (out += d));
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`gateway exited ${proc.exitCode}: ${out}`);
    if (Date.now() > deadline) throw new Error(`gateway did not start: ${out}`);
    try {
      if ((await fetch(`${httpUrl}/readyz`)).ok) break;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    proc,
    mqttUrl: `mqtt://127.0.0.1:${mqttPort}`,
    httpUrl,
    output: () => out,
    kill: (signal = 'SIGKILL') =>
      new Promise((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill(signal);
      }),
  };
}
