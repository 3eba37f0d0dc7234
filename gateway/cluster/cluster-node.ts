import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { type BrokerClustering, redisBrokerClustering } from './redis-broker.ts';
import { RedisClusterBus } from './redis-bus.ts';

/** What a node needs before anything listens: its name, its bus, its broker's Redis parts. */
export interface ClusterNode {
  nodeId: string;
  bus: RedisClusterBus;
  clustering: BrokerClustering;
}

/**
 * The node's id: NODE_ID, else `<host>:<HTTP_PORT>`. With HTTP_PORT 0 (tests, several nodes in
 * one process) the port is only known after listen, while the broker and the bus need the id
 * before; such a node takes `<host>:<random>`.
 */
export function resolveNodeId(config: Config): string {
  if (config.NODE_ID) return config.NODE_ID;
  const host = hostname()
    .replace(/[^\w.-]/g, '-')
    .slice(0, 40);
  return `${host}:${config.HTTP_PORT || randomBytes(4).toString('hex')}`;
}

/** Cluster mode (issue 11): the Redis bus and broker parts of this node. */
export function createClusterNode(config: Config, log: Logger): ClusterNode {
  const nodeId = resolveNodeId(config);
  const url = config.REDIS_URL!;
  const prefix = config.REDIS_PREFIX;
  const clusterLog = log.child({ module: 'cluster', nodeId });
  return {
    nodeId,
    bus: new RedisClusterBus({ url, prefix, nodeId, log: clusterLog }),
    clustering: redisBrokerClustering({
      url,
      prefix,
      nodeId,
      onError: (err, where) => clusterLog.warn({ err: err.message, where }, 'broker redis error'),
    }),
  };
}
