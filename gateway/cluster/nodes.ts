import { Redis } from 'ioredis';
import { Gauge, type Registry } from 'prom-client';
import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import { quitWithin, within } from './redis-quit.ts';

/** How often each node writes its heartbeat. */
export const HEARTBEAT_MS = 2000;
/** A node whose last heartbeat is older than this is shown as not alive. */
export const ALIVE_WITHIN_MS = 3 * HEARTBEAT_MS;

/** One node's heartbeat, as written in the `<prefix>nodes` hash. */
export interface NodeBeat {
  nodeId: string;
  httpUrl: string;
  mqttPort: number;
  connectedDevices: number;
  startedAt: number;
  heartbeatAt: number;
}

export interface NodeView extends NodeBeat {
  alive: boolean;
  self: boolean;
}

/**
 * The cluster's members (issue 11): each node writes a heartbeat every 2 s to one Redis hash,
 * field = its node id, and deletes its field on a graceful stop. A killed node's field stays, its
 * heartbeat ageing: `alive` is false past three intervals, and a field older than a day is
 * dropped by whoever lists the nodes, so a renamed node does not linger for ever.
 */
export class NodeRegistry {
  private readonly redis: Redis;
  private readonly key: string;
  private readonly startedAt: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly opts: {
      url: string;
      prefix: string;
      nodeId: string;
      clock: Clock;
      log: Logger;
      /** This node's figures at each heartbeat. */
      self(): Promise<Pick<NodeBeat, 'httpUrl' | 'mqttPort' | 'connectedDevices'>>;
      registry: Registry;
    },
  ) {
    this.redis = new Redis(opts.url, { maxRetriesPerRequest: 1, lazyConnect: true });
    this.redis.on('error', (err) => opts.log.debug({ err: err.message }, 'node registry: redis error'));
    this.key = `${opts.prefix}nodes`;
    this.startedAt = opts.clock.now();
    const list = () => this.list();
    new Gauge({
      name: 'citygate_cluster_nodes_alive',
      help: 'Nodes of the cluster whose heartbeat is recent, as seen by this node',
      registers: [opts.registry],
      async collect() {
        const nodes = await list().catch(() => []);
        this.set(nodes.filter((n) => n.alive).length);
      },
    });
  }

  /** Writes the first heartbeat, then one every HEARTBEAT_MS (failures are logged, retried). */
  async start(): Promise<void> {
    await this.redis.connect().catch(() => {});
    await this.beat();
    this.timer = setInterval(() => void this.beat(), HEARTBEAT_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await within(this.redis.hdel(this.key, this.opts.nodeId));
    await quitWithin(this.redis);
    this.opts.registry.removeSingleMetric('citygate_cluster_nodes_alive');
  }

  /** Every node that wrote a heartbeat, this one first, then by node id. */
  async list(): Promise<NodeView[]> {
    const now = this.opts.clock.now();
    const fields = await this.redis.hgetall(this.key);
    const nodes: NodeView[] = [];
    const stale: string[] = [];
    for (const [id, raw] of Object.entries(fields)) {
      const beat = id.length <= MAX_NODE_ID_LENGTH ? parseBeat(raw) : undefined;
      // A day old, or from the future (a wrong clock or a forged field): not a node to list.
      if (!beat || Math.abs(now - beat.heartbeatAt) > 86_400_000) {
        stale.push(id);
        continue;
      }
      nodes.push({
        ...beat,
        nodeId: id,
        alive: Math.abs(now - beat.heartbeatAt) <= ALIVE_WITHIN_MS,
        self: id === this.opts.nodeId,
      });
    }
    if (stale.length) await this.redis.hdel(this.key, ...stale).catch(() => {});
    return nodes
      .sort((a, b) => Number(b.self) - Number(a.self) || a.nodeId.localeCompare(b.nodeId))
      .slice(0, MAX_NODES_LISTED);
  }

  private async beat(): Promise<void> {
    const beat: NodeBeat = {
      nodeId: this.opts.nodeId,
      ...(await this.opts.self()),
      startedAt: this.startedAt,
      heartbeatAt: this.opts.clock.now(),
    };
    await this.redis
      .hset(this.key, this.opts.nodeId, JSON.stringify(beat))
      .catch((err: Error) => this.opts.log.warn({ err: err.message }, 'node heartbeat failed'));
  }
}

/** Bounds on what the nodes hash may hold: any Redis client can write to it. */
const MAX_BEAT_BYTES = 4096;
const MAX_NODE_ID_LENGTH = 128;
const MAX_NODES_LISTED = 1000;
/** An epoch-ms time a Date can hold (toISOString throws past ±8.64e15). */
const isTime = (t: unknown): t is number =>
  Number.isSafeInteger(t) && (t as number) >= 0 && (t as number) <= 8.64e15;

/** A heartbeat as a node writes it, or undefined for anything else (too long, not JSON, bad times). */
function parseBeat(raw: string): Omit<NodeBeat, 'nodeId'> | undefined {
  if (raw.length > MAX_BEAT_BYTES) return undefined;
  try {
    const b = JSON.parse(raw) as Partial<NodeBeat> | null;
    if (!b || !isTime(b.heartbeatAt) || !isTime(b.startedAt)) return undefined;
    return {
      httpUrl: String(b.httpUrl ?? '').slice(0, 256),
      mqttPort: Number(b.mqttPort) || 0,
      connectedDevices: Number(b.connectedDevices) || 0,
      startedAt: b.startedAt,
      heartbeatAt: b.heartbeatAt,
    };
  } catch {
    return undefined;
  }
}
