import type { Aedes } from 'aedes';
import type { Adapter } from '../adapters/adapter.ts';
import type { AuditStore } from '../device-registry/audit.ts';
import type { Db } from '../device-registry/db.ts';
import type { Device, DeviceStore } from '../device-registry/devices.ts';
import type { PgPool } from '../device-registry/pg/pg-db.ts';
import type { TokenStore } from '../device-registry/tokens.ts';
import type { ModelSpec } from '../firmware-specs/define-device.ts';
import type { RequireRole } from './api/auth.ts';
import type { Clock } from './clock.ts';
import type { ClusterBus } from './cluster/cluster-bus.ts';
import type { DeviceLink } from './device-link.ts';
import type { DiskGuard } from './disk-guard.ts';
import type { EventBus } from './events/bus.ts';
import type { Ingest } from './ingest/ingest.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';
import type { Outbox } from './outbox.ts';
import type { SinkPump } from './sink-pump.ts';

/** What the gateway's parts share; built once by buildGateway(). */
export interface GatewayContext {
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  specs: ReadonlyMap<string, ModelSpec>;
  /** The registry database (devices, tokens, commands, audit). */
  db: Db;
  devices: DeviceStore;
  tokens: TokenStore;
  audit: AuditStore;
  outbox: Outbox;
  ingest: Ingest;
  pump: SinkPump;
  broker: Aedes;
  /** Devices' MQTT connections: who is connected, sending to them, their PUBACKs. */
  link: DeviceLink;
  requireRole: RequireRole;
  sinkName: string;
  /** Extra fields of a device's view contributed by other parts (desired state, adapters). */
  deviceExtras: Array<(device: Device) => Record<string, unknown>>;
  /** Protocol adapters (Modbus, …) registered by modules; commands to their devices go through them. */
  adapters: Adapter[];
  /** Places that found the disk full; the gateway is not ready while any does. */
  disk: DiskGuard;
  /** A device became reachable or not, by any protocol: the registry and every module hear it. */
  presence(device: Device, online: boolean): void;
  /** Alarm transitions, presence, command status changes, summaries (issue 9). */
  events: EventBus;
  /** The PostgreSQL registry in cluster mode (issue 11); undefined in single-process mode. */
  pg?: PgPool;
  /** Messages to the cluster's other nodes; `singleNodeBus` (does nothing) in single-process mode. */
  cluster: ClusterBus;
  /** Cluster mode: why this node cannot serve (`redis: …`, `postgres: …`), for /readyz (gateway/cluster/health.ts). */
  clusterHealth?: () => Promise<string[]>;
}
