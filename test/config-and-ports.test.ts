import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { isClusterMode, loadConfig } from '../gateway/config.ts';
import { buildGateway } from '../gateway/gateway.ts';
import { backlogCap } from '../gateway/listen.ts';
import { createLogger } from '../gateway/logger.ts';
import { startTestGateway } from './helpers/gateway.ts';

describe('configuration', () => {
  it('names the bad variable', () => {
    expect(() => loadConfig({ MQTT_PORT: 'abc' })).toThrow(/GW_ERR_CONFIG|MQTT_PORT/);
    expect(() => loadConfig({ MQTT_PORT: 'abc' })).toThrow(/MQTT_PORT: /);
    expect(() => loadConfig({ INFLUX_URL: 'not a url' })).toThrow(/INFLUX_URL: /);
    expect(() => loadConfig({ CITYGATE_ADMIN_TOKEN: 'short' })).toThrow(
      /CITYGATE_ADMIN_TOKEN: must be at least 16/,
    );
    expect(loadConfig({}).MQTT_PORT).toBe(1883);
  });

  it('names the missing half of the cluster settings, and a bad node id', () => {
    const pg = 'postgres://postgres@127.0.0.1:5432/citygate';
    expect(() => loadConfig({ DATABASE_URL: pg })).toThrow(/REDIS_URL: cluster mode needs both/);
    expect(() => loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' })).toThrow(/DATABASE_URL: cluster mode/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x', REDIS_URL: 'redis://h' })).toThrow(
      /DATABASE_URL: must be a postgres/,
    );
    expect(() => loadConfig({ DATABASE_URL: pg, REDIS_URL: 'redis://h', NODE_ID: 'a b' })).toThrow(
      /NODE_ID: /,
    );
    const c = loadConfig({ DATABASE_URL: pg, REDIS_URL: 'redis://127.0.0.1:6379', NODE_ID: 'node-a' });
    expect(isClusterMode(c)).toBe(true);
    expect(isClusterMode(loadConfig({}))).toBe(false);
  });

  it('listens for MQTT with the configured backlog, as the kernel reports it', async () => {
    expect(() => loadConfig({ MQTT_LISTEN_BACKLOG: '0' })).toThrow(/MQTT_LISTEN_BACKLOG: /);
    // For a listening socket `ss` shows the backlog as its Send-Q; Linux caps it at somaxconn.
    const backlogOf = (port: number) =>
      Number(
        execFileSync('ss', ['-Hltn', `sport = :${port}`], { encoding: 'utf8' })
          .trim()
          .split(/\s+/)[2],
      );
    const cap = backlogCap() ?? Number.POSITIVE_INFINITY;
    const byDefault = await startTestGateway();
    const small = await startTestGateway({ config: { MQTT_LISTEN_BACKLOG: 100 } });
    try {
      expect(backlogOf(byDefault.gateway.mqttPort)).toBe(Math.min(4096, cap));
      expect(backlogOf(small.gateway.mqttPort)).toBe(100);
    } finally {
      await Promise.all([byDefault.stop(), small.stop()]);
    }
  });

  it('reports a taken MQTT port as such', async () => {
    const squatter = createServer();
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', () => r()));
    const port = (squatter.address() as { port: number }).port;
    try {
      await expect(startTestGateway({ config: { MQTT_PORT: port } })).rejects.toThrow(
        `MQTT port ${port} is already in use by another process`,
      );
    } finally {
      squatter.close();
    }
  });

  it('reports a taken HTTP port as such, and releases the MQTT port it had opened', async () => {
    const squatter = createServer();
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', () => r()));
    const port = (squatter.address() as { port: number }).port;
    try {
      const err = await startTestGateway({ config: { HTTP_PORT: port } }).catch(
        (e: Error & { code: string }) => e,
      );
      expect(err).toMatchObject({
        code: 'GW_ERR_PORT_IN_USE',
        message: expect.stringContaining(`HTTP port ${port}`),
      });
    } finally {
      squatter.close();
    }
  });

  it('keeps the generated admin token across restarts', async () => {
    const gw = await startTestGateway();
    const first = gw.admin;
    await gw.stop({ keepData: true });
    const again = buildGateway({
      log: createLogger('silent'),
      printAdminToken: false,
      config: {
        CITYGATE_DATA_DIR: gw.dataDir,
        MQTT_PORT: 0,
        HTTP_PORT: 0,
        MQTT_HOST: '127.0.0.1',
        HTTP_HOST: '127.0.0.1',
      },
    });
    await again.start();
    expect(again.adminToken).toBe(first);
    await again.stop();
  });
});
