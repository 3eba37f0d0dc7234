import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { GatewayApi } from '../../simulators/load/gateway-api.ts';
import { type GatewayProcess, spawnGateway } from './gateway-process.ts';
import { createTestDatabase, type TestDatabase } from './pg.ts';
import { createTestRedis, type TestRedis } from './redis.ts';
import { freePort } from './victoria.ts';

/** The settings that make a gateway a node of a test cluster: its database, Redis prefix and name. */
export function clusterSettings(
  db: { url: string },
  redis: { url: string; prefix: string },
  nodeId: string,
  adminToken: string,
) {
  return {
    DATABASE_URL: db.url,
    REDIS_URL: redis.url,
    REDIS_PREFIX: redis.prefix,
    NODE_ID: nodeId,
    CITYGATE_ADMIN_TOKEN: adminToken,
  };
}

/** One gateway node of a test cluster: its own process, ports and data directory (its outbox). */
export interface ClusterNode {
  name: string;
  nodeId: string;
  dataDir: string;
  mqttPort: number;
  httpPort: number;
  mqttUrl: string;
  httpUrl: string;
  /** The running process; replaced by restart(). */
  process: GatewayProcess | undefined;
  output(): string;
}

export interface TestCluster {
  nodes: ClusterNode[];
  /** By name: cluster.node('b'). */
  node(name: string): ClusterNode;
  db: TestDatabase;
  redis: TestRedis;
  admin: string;
  api<T = any>(
    node: ClusterNode,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }>;
  /** Registers a device through the node's API; returns its secret. */
  register(node: ClusterNode, device: { id: string; model: string; firmware: string }): Promise<string>;
  /** An MQTT client of the device on the node (no automatic reconnect). */
  connect(node: ClusterNode, id: string, secret: string, opts?: IClientOptions): Promise<MqttClient>;
  kill(node: ClusterNode, signal?: NodeJS.Signals): Promise<void>;
  /** Starts the node again: same id, ports and data directory, so it drains its own outbox. */
  restart(node: ClusterNode): Promise<void>;
  /** Stops every node, drops the database, deletes the Redis keys and the data directories. */
  stop(): Promise<void>;
}

/**
 * N gateway nodes as separate processes (gateway/main.ts) sharing one PostgreSQL database and one
 * Redis prefix, as in docs/scaling.md, minus the load balancer: a test picks the node a device
 * connects to. `env` is added to every node's environment (INFLUX_URL, rates, …).
 */
export async function startCluster(opts: {
  label: string;
  names?: string[];
  env?: Record<string, string>;
}): Promise<TestCluster> {
  const names = opts.names ?? ['a', 'b', 'c'];
  const db = await createTestDatabase(opts.label);
  const redis = createTestRedis(opts.label);
  const admin = `cluster-admin-${opts.label}-0123456789abcdef`;
  const nodes: ClusterNode[] = [];
  for (const name of names) {
    const mqttPort = await freePort();
    const httpPort = await freePort();
    const node: ClusterNode = {
      name,
      nodeId: `${opts.label}-${name}`,
      dataDir: mkdtempSync(join(tmpdir(), `citygate-node-${name}-`)),
      mqttPort,
      httpPort,
      mqttUrl: `mqtt://127.0.0.1:${mqttPort}`,
      httpUrl: `http://127.0.0.1:${httpPort}`,
      process: undefined,
      output: () => node.process?.output() ?? '',
    };
    nodes.push(node);
  }
  const envOf = (node: ClusterNode) => ({
    LOG_LEVEL: 'warn',
    ...opts.env,
    CITYGATE_DATA_DIR: node.dataDir,
    ...clusterSettings(db, redis, node.nodeId, admin),
    MQTT_PORT: String(node.mqttPort),
    HTTP_PORT: String(node.httpPort),
  });
  const launch = async (node: ClusterNode) => {
    node.process = await spawnGateway(envOf(node));
  };
  const stopAll = async () => {
    // SIGTERM: a graceful stop, each node leaves the node registry.
    await Promise.all(nodes.map((n) => n.process?.kill('SIGTERM')));
  };
  try {
    // One at a time: the first applies the migrations, and 2 cores start 3 processes slowly anyway.
    for (const node of nodes) await launch(node);
  } catch (err) {
    await stopAll();
    await db.drop();
    await redis.cleanup();
    throw err;
  }
  const api: TestCluster['api'] = (node, method, path, body) =>
    new GatewayApi(node.httpUrl, admin).call(method, path, body);
  return {
    nodes,
    node: (name) => {
      const n = nodes.find((x) => x.name === name);
      if (!n) throw new Error(`no node ${name}`);
      return n;
    },
    db,
    redis,
    admin,
    api,
    async register(node, device) {
      const res = await api(node, 'POST', '/api/devices', {
        district: 'Hoàn Kiếm',
        ward: 'Hàng Bạc',
        ...device,
      });
      if (res.status !== 201) throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.secret as string;
    },
    connect(node, id, secret, connectOpts = {}) {
      return mqtt.connectAsync(node.mqttUrl, {
        clientId: id,
        username: id,
        password: secret,
        reconnectPeriod: 0,
        connectTimeout: 5000,
        ...connectOpts,
      });
    },
    async kill(node, signal = 'SIGKILL') {
      await node.process?.kill(signal);
    },
    async restart(node) {
      await node.process?.kill('SIGKILL');
      await launch(node);
    },
    async stop() {
      await stopAll();
      await db.drop().catch(() => {});
      await redis.cleanup().catch(() => {});
      for (const n of nodes) rmSync(n.dataDir, { recursive: true, force: true });
    },
  };
}
