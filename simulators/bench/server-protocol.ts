/** What the bench's server processes (gateway, bare broker) say to their parent over IPC. */
export type FromServer =
  | { type: 'ready'; mqttPort: number; httpPort?: number; adminToken?: string }
  | { type: 'error'; message: string };

export type ToServer = { type: 'stop' };

export interface GatewayProcessOptions {
  dataDir: string;
  influxUrl?: string;
  /** scrypt cost of new device secrets (see docs/benchmarks.md for why the bench lowers it). */
  secretCost?: number;
  logLevel?: string;
  mqttPort?: number;
  httpPort?: number;
  /** More settings, e.g. DATABASE_URL, REDIS_URL, REDIS_PREFIX, NODE_ID of a cluster node (issue 11). */
  config?: Record<string, string>;
}
