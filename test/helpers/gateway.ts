import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { buildGateway, type Gateway, type GatewayOptions } from '../../gateway/gateway.ts';
import { createLogger } from '../../gateway/logger.ts';
import { GatewayApi } from '../../simulators/load/gateway-api.ts';

export interface TestGateway {
  gateway: Gateway;
  dataDir: string;
  mqttUrl: string;
  httpUrl: string;
  admin: string;
  api<T = any>(
    method: string,
    path: string,
    body?: unknown,
    token?: string,
  ): Promise<{ status: number; body: T }>;
  register(
    device: Partial<DeviceInput> & { model: string; firmware: string },
  ): Promise<{ id: string; secret: string }>;
  connect(id: string, secret: string, opts?: IClientOptions): Promise<MqttClient>;
  stop(opts?: { keepData?: boolean }): Promise<void>;
}

interface DeviceInput {
  id: string;
  model: string;
  firmware: string;
  district: string;
  ward: string;
  tags: string[];
  modbus: { host: string; port: number; unitId: number };
}

let seq = 0;

/** A real gateway on free ports and a temporary data directory. */
export async function startTestGateway(
  opts: GatewayOptions & { dataDir?: string; influxUrl?: string } = {},
): Promise<TestGateway> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'citygate-test-'));
  const gateway = buildGateway({
    log: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
    secretCost: 1024,
    printAdminToken: false,
    ...opts,
    config: {
      CITYGATE_DATA_DIR: dataDir,
      MQTT_PORT: 0,
      HTTP_PORT: 0,
      MQTT_HOST: '127.0.0.1',
      HTTP_HOST: '127.0.0.1',
      INFLUX_URL: opts.influxUrl,
      ...opts.config,
    },
  });
  await gateway.start();
  const httpUrl = `http://127.0.0.1:${gateway.httpPort}`;
  const mqttUrl = `mqtt://127.0.0.1:${gateway.mqttPort}`;
  const api: TestGateway['api'] = (method, path, body, token = gateway.adminToken) =>
    new GatewayApi(httpUrl, token).call(method, path, body);
  return {
    gateway,
    dataDir,
    mqttUrl,
    httpUrl,
    admin: gateway.adminToken,
    api,
    async register(device) {
      const id = device.id ?? `dev-${process.pid}-${++seq}`;
      const res = await api('POST', '/api/devices', {
        district: 'Hoàn Kiếm',
        ward: 'Hàng Bạc',
        ...device,
        id,
      });
      if (res.status !== 201) throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
      return { id, secret: res.body.secret };
    },
    connect(id, secret, opts = {}) {
      return mqtt.connectAsync(mqttUrl, {
        clientId: id,
        username: id,
        password: secret,
        reconnectPeriod: 0,
        connectTimeout: 5000,
        ...opts,
      });
    },
    async stop({ keepData = false } = {}) {
      await gateway.stop();
      if (!keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * How an MQTT CONNECT ends: `connected`, or the refusal's CONNACK code and message (a close
 * without either: `closed`). The client is ended either way.
 */
export function connectOutcome(
  url: string,
  clientId: string,
  username?: string,
  password?: string,
): Promise<{ code?: number; message: string }> {
  const client = mqtt.connect(url, {
    clientId,
    username,
    password,
    reconnectPeriod: 0,
    connectTimeout: 5000,
  });
  return new Promise((resolve) => {
    client.once('connect', () => {
      client.end(true);
      resolve({ message: 'connected' });
    });
    client.once('error', (err: Error & { code?: number }) => {
      client.end(true);
      resolve({ code: err.code, message: err.message });
    });
    client.once('close', () => resolve({ message: 'closed' }));
  });
}
