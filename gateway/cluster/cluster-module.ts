import { hostname } from 'node:os';
import { type Config, isClusterMode } from '../config.ts';
import type { GatewayContext } from '../context.ts';
import type { GatewayModule } from '../gateway.ts';
import { clusterRoutes } from './cluster-routes.ts';
import { ClusterHealth } from './health.ts';
import { NodeRegistry, type NodeView } from './nodes.ts';

/**
 * The node's place in the cluster (issue 11): its heartbeat in the node registry once it
 * listens, `GET /api/cluster`, Redis and PostgreSQL health for `/readyz`, the `node` label on
 * its metrics. In single-process mode `/api/cluster` shows this process alone.
 */
export function clusterModule(opts: {
  config: Config;
  /** Known once the servers listen. */
  endpoints(): { httpPort: number; mqttPort: number };
}): GatewayModule {
  const cluster = isClusterMode(opts.config);
  let ctx: GatewayContext;
  let registry: NodeRegistry | undefined;
  let health: ClusterHealth | undefined;
  let startedAt = 0;
  const endpoints = () => {
    const { httpPort, mqttPort } = opts.endpoints();
    const c = opts.config;
    const host = c.HTTP_HOST === '0.0.0.0' || c.HTTP_HOST === '::' ? hostname() : c.HTTP_HOST;
    const scheme = c.TLS_CERT_FILE && c.TLS_KEY_FILE ? 'https' : 'http';
    return { httpUrl: `${scheme}://${host.includes(':') ? `[${host}]` : host}:${httpPort}`, mqttPort };
  };
  const connectedDevices = async () => (await ctx.metrics.connected.get()).values[0]?.value ?? 0;
  const single = async (): Promise<NodeView[]> => [
    {
      nodeId: ctx.cluster.nodeId,
      ...endpoints(),
      connectedDevices: await connectedDevices(),
      startedAt,
      heartbeatAt: ctx.clock.now(),
      alive: true,
      self: true,
    },
  ];
  return {
    name: 'cluster',
    routes: clusterRoutes({
      mode: cluster ? 'cluster' : 'single',
      nodes: () => (registry ? registry.list() : single()),
    }),
    init(c) {
      ctx = c;
      startedAt = c.clock.now();
      if (!cluster || !c.pg) return;
      c.metrics.registry.setDefaultLabels({ node: c.cluster.nodeId });
      health = new ClusterHealth({ redisUrl: opts.config.REDIS_URL!, pg: c.pg, clock: c.clock });
      c.clusterHealth = () => health!.reasons();
      registry = new NodeRegistry({
        url: opts.config.REDIS_URL!,
        prefix: opts.config.REDIS_PREFIX,
        nodeId: c.cluster.nodeId,
        clock: c.clock,
        log: c.log.child({ module: 'cluster' }),
        registry: c.metrics.registry,
        self: async () => ({ ...endpoints(), connectedDevices: await connectedDevices() }),
      });
    },
    async start() {
      await registry?.start();
    },
    async stop() {
      await registry?.stop();
      health?.close();
    },
  };
}
