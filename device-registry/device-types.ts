import type { Family } from '../firmware-specs/families.ts';

/** Devices as the registry, the API and the ingest path see them (issue 12's fleet fields included). */

export interface ModbusEndpoint {
  host: string;
  port: number;
  unitId: number;
}

export interface Device {
  id: string;
  model: string;
  family: Family;
  firmware: string;
  district: string;
  ward: string;
  lat: number | null;
  lon: number | null;
  tags: string[];
  enabled: boolean;
  modbus: ModbusEndpoint | null;
  createdAt: number;
  online: boolean;
  lastSeenAt: number | null;
  lastReading: Record<string, unknown> | null;
  lastReadingAt: number | null;
  reportedState: Record<string, unknown> | null;
  reportedAt: number | null;
  /** Set once decommissioned: the device is disabled for good, its id kept (not reused). */
  decommissionedAt?: number | null;
}

export type DeviceStatus = 'online' | 'offline' | 'disabled';

/** What the operations centre calls a device's status: disabled first, then presence. */
export const deviceStatus = (d: Device): DeviceStatus =>
  !d.enabled ? 'disabled' : d.online ? 'online' : 'offline';

export interface NewDevice {
  id: string;
  model: string;
  firmware: string;
  district: string;
  ward: string;
  lat?: number;
  lon?: number;
  tags?: string[];
  modbus?: ModbusEndpoint;
}

/** A device as it is on registration: enabled, never seen, nothing reported yet. */
export function newDevice(input: NewDevice, family: Family, now: number): Device {
  return {
    id: input.id,
    model: input.model,
    family,
    firmware: input.firmware,
    district: input.district,
    ward: input.ward,
    lat: input.lat ?? null,
    lon: input.lon ?? null,
    tags: input.tags ?? [],
    enabled: true,
    modbus: input.modbus ?? null,
    createdAt: now,
    online: false,
    lastSeenAt: null,
    lastReading: null,
    lastReadingAt: null,
    reportedState: null,
    reportedAt: null,
  };
}

export interface DeviceFilter {
  family?: string;
  district?: string;
  ward?: string;
  tag?: string;
  status?: DeviceStatus;
  ids?: string[];
  model?: string;
  /** Decommissioned devices are left out of lists unless this is true (then only they are listed). */
  decommissioned?: boolean;
  limit?: number;
  offset?: number;
}

/** What may change in a registered device (issue 12); absent fields stay, null clears lat/lon. */
export interface DevicePatch {
  firmware?: string;
  district?: string;
  ward?: string;
  lat?: number | null;
  lon?: number | null;
  tags?: string[];
}

export type DeviceChanges = Partial<Record<keyof DevicePatch, { from: unknown; to: unknown }>>;

/** A new device's first problem, by field: what registration throws and what an import reports. */
export interface RowProblem {
  field: string;
  error: Error;
}

export type DeviceChange = 'registered' | 'enabled' | 'disabled' | 'updated';

export const CREDENTIAL_RESULTS = {
  ok: 'ok',
  unknown: 'unknown',
  bad: 'bad',
  disabled: 'disabled',
  noSecret: 'noSecret',
  /** The scrypt queue was full: nothing was checked. */
  busy: 'busy',
  /** The device was decommissioned: it never connects again. */
  decommissioned: 'decommissioned',
} as const;
export type CredentialResult = keyof typeof CREDENTIAL_RESULTS;

/** The devices matching `filter`, by id, paged: what DeviceStore.list() returns from its cache. */
export function filterDevices(all: Iterable<Device>, filter: DeviceFilter): Device[] {
  const ids = filter.ids ? new Set(filter.ids) : null;
  const decommissioned = filter.decommissioned ?? false;
  const out: Device[] = [];
  for (const d of all) {
    if (Boolean(d.decommissionedAt) !== decommissioned) continue;
    if (ids && !ids.has(d.id)) continue;
    if (filter.family && d.family !== filter.family) continue;
    if (filter.model && d.model !== filter.model) continue;
    if (filter.district && d.district !== filter.district) continue;
    if (filter.ward && d.ward !== filter.ward) continue;
    if (filter.tag && !d.tags.includes(filter.tag)) continue;
    if (filter.status === 'disabled' && d.enabled) continue;
    if (filter.status === 'online' && !(d.enabled && d.online)) continue;
    if (filter.status === 'offline' && !(d.enabled && !d.online)) continue;
    out.push(d);
  }
  out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const offset = filter.offset ?? 0;
  return filter.limit === undefined ? out.slice(offset) : out.slice(offset, offset + filter.limit);
}
