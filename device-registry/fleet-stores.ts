import type { ModelSpec } from '../firmware-specs/define-device.ts';
import { AuditLog, type AuditStore } from './audit.ts';
import type { Db } from './db.ts';
import { DeviceStore } from './devices.ts';
import { PgAuditLog } from './pg/pg-audit.ts';
import type { PgPool } from './pg/pg-db.ts';
import { PgDeviceRows } from './pg/pg-device-rows.ts';
import { PgTokenStore } from './pg/pg-tokens.ts';
import { SqliteDeviceRows } from './sqlite-device-rows.ts';
import { SqliteTokenStore, type TokenStore } from './tokens.ts';

export interface FleetStores {
  devices: DeviceStore;
  tokens: TokenStore;
  audit: AuditStore;
  /** Writes what the audit trail still holds (PostgreSQL writes it behind). */
  close(): Promise<void>;
}

/**
 * Devices, tokens and the audit trail: on the PostgreSQL registry when `pg` is given (cluster
 * mode), else on the node's SQLite file, where they were before issue 11.
 */
export async function openFleetStores(opts: {
  db: Db;
  pg?: PgPool;
  specs: ReadonlyMap<string, ModelSpec>;
  clock: { now(): number };
  scryptQueue?: number;
  nodeId: string;
  announce: (id: string) => void;
  onAuditError: (err: unknown) => void;
}): Promise<FleetStores> {
  const storeOpts = {
    scryptQueue: opts.scryptQueue,
    clock: opts.clock,
    nodeId: opts.nodeId,
    announce: opts.announce,
  };
  if (opts.pg) {
    const audit = new PgAuditLog(opts.pg, { onError: opts.onAuditError });
    return {
      devices: await DeviceStore.open(new PgDeviceRows(opts.pg), opts.specs, storeOpts),
      tokens: new PgTokenStore(opts.pg),
      audit,
      close: () => audit.close(),
    };
  }
  const audit = new AuditLog(opts.db);
  return {
    devices: await DeviceStore.open(new SqliteDeviceRows(opts.db, audit), opts.specs, storeOpts),
    tokens: new SqliteTokenStore(opts.db),
    audit,
    close: async () => {},
  };
}
