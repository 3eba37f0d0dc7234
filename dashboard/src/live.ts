import { api, currentToken } from './api.ts';
import { value } from './state.ts';
import {
  type AlarmView,
  type DeviceStatus,
  type GatewayEvent,
  type MapAnswer,
  SEVERITIES,
  type Summary,
} from './types.ts';

/** Every device, column by column (typed arrays: the map draws 10,000 of them each frame). */
export interface City {
  families: string[];
  districts: MapAnswer['districts'];
  tileUrl: string | null;
  ids: string[];
  index: Map<string, number>;
  family: Uint8Array;
  district: Uint16Array;
  lat: Float64Array;
  lon: Float64Array;
  /** 0 online, 1 offline, 2 disabled. */
  status: Uint8Array;
  /** Worst open, unshelved alarm: 0 critical … 3 warning, -1 none. */
  alarm: Int8Array;
}

export const STATUSES: DeviceStatus[] = ['online', 'offline', 'disabled'];
export type Connection = 'connecting' | 'live' | 'offline';

/** ISA-18.2: more than 10 alarms in 10 minutes is a flood for one operator. */
export const FLOOD = { count: 10, windowMs: 10 * 60_000 };

export const live = {
  city: null as City | null,
  summary: null as Summary | null,
  /** Open alarms (not closed), shelved ones included, by id. */
  alarms: new Map<string, AlarmView>(),
  /** When alarms were raised, for the flood indicator (pruned to FLOOD.windowMs). */
  raised: [] as number[],
  /** The last critical alarm raised while watching, for the cue. */
  lastCritical: null as AlarmView | null,
  /** Command status events, for the device and bulk views (newest last, bounded). */
  commands: [] as Extract<GatewayEvent, { type: 'command' }>[],
  error: null as string | null,
  /** Bumped once per animation frame in which something changed: views watch this. */
  version: value(0),
  connection: value<Connection>('connecting'),
};

const alarmsByDevice = new Map<string, Set<string>>();
let queue: GatewayEvent[] = [];
let scheduled = false;
let source: EventSource | null = null;
let lastEventId: string | null = null;
let retry: ReturnType<typeof setTimeout> | null = null;
let generation = 0;

/** Loads the snapshots and opens the events stream; stop() ends both. */
export async function startLive(): Promise<void> {
  const gen = ++generation;
  await loadSnapshots(gen);
  if (gen === generation) connect(gen);
}

export function stopLive(): void {
  generation++;
  source?.close();
  source = null;
  if (retry) clearTimeout(retry);
  queue = [];
  live.city = null;
  live.summary = null;
  live.alarms.clear();
  alarmsByDevice.clear();
  lastEventId = null;
}

async function loadSnapshots(gen: number): Promise<void> {
  try {
    const [map, alarms] = await Promise.all([api.get<MapAnswer>('/api/map'), loadOpenAlarms()]);
    if (gen !== generation) return;
    performance.mark('citygate:snapshot-fetched');
    live.city = toCity(map);
    live.alarms.clear();
    alarmsByDevice.clear();
    for (const a of alarms) putAlarm(a);
    live.error = null;
  } catch (err) {
    live.error = (err as Error).message;
  }
  live.version.set(live.version.get() + 1);
}

async function loadOpenAlarms(): Promise<AlarmView[]> {
  const all: AlarmView[] = [];
  // At most 5,000: a city with more open alarms than that has a bigger problem than this list.
  for (let offset = 0; offset < 5000; offset += 500) {
    const page = await api.get<{ total: number; alarms: AlarmView[] }>(
      `/api/alarms?state=open&limit=500&offset=${offset}`,
    );
    all.push(...page.alarms);
    if (page.alarms.length < 500) break;
  }
  return all;
}

function toCity(m: MapAnswer): City {
  const n = m.devices.length;
  const city: City = {
    families: m.families,
    districts: m.districts,
    tileUrl: m.tileUrl,
    ids: new Array(n),
    index: new Map(),
    family: new Uint8Array(n),
    district: new Uint16Array(n),
    lat: new Float64Array(n),
    lon: new Float64Array(n),
    status: new Uint8Array(n),
    alarm: new Int8Array(n),
  };
  m.devices.forEach(([id, family, district, lat, lon, status, alarm], i) => {
    city.ids[i] = id;
    city.index.set(id, i);
    city.family[i] = family;
    city.district[i] = district;
    city.lat[i] = lat;
    city.lon[i] = lon;
    city.status[i] = STATUSES.indexOf(m.statuses[status]);
    city.alarm[i] = alarm < 0 ? -1 : SEVERITIES.indexOf(m.severities[alarm]);
  });
  return city;
}

function connect(gen: number): void {
  const params = new URLSearchParams({ token: currentToken() ?? '' });
  if (lastEventId) params.set('lastEventId', lastEventId);
  const es = new EventSource(`/api/events?${params}`);
  source = es;
  live.connection.set('connecting');
  es.onopen = () => live.connection.set('live');
  const onEvent = (e: MessageEvent) => {
    if (e.lastEventId) lastEventId = e.lastEventId;
    try {
      enqueue(JSON.parse(e.data));
    } catch {
      // A frame that is not JSON is not ours to guess at.
    }
  };
  for (const type of ['alarm', 'presence', 'command', 'summary']) es.addEventListener(type, onEvent);
  // The gateway could not replay what we missed: reload the state from the API.
  es.addEventListener('reset', (e) => {
    lastEventId = (e as MessageEvent).lastEventId || null;
    queue = [];
    void loadSnapshots(gen);
  });
  es.onerror = () => {
    live.connection.set('offline');
    // EventSource retries by itself after a dropped stream; after a refused one (401, 503) it
    // gives up, so we reconnect, resuming from the last event seen.
    if (es.readyState === EventSource.CLOSED && gen === generation) {
      source = null;
      retry = setTimeout(() => gen === generation && connect(gen), 3000 + Math.random() * 2000);
    }
  };
}

/**
 * Flushes are at most one per animation frame and at most one per FLUSH_MS: a storm of events (a
 * whole district reconnecting) costs ten renders a second, not sixty, and nobody sees 100 ms.
 */
const FLUSH_MS = 100;
let lastFlush = 0;

function enqueue(event: GatewayEvent): void {
  queue.push(event);
  if (scheduled) return;
  scheduled = true;
  const wait = Math.max(0, lastFlush + FLUSH_MS - performance.now());
  // A hidden tab gets no frames, so a timer flushes it instead.
  setTimeout(() => requestAnimationFrame(flush), wait);
  setTimeout(flush, wait + 1000);
}

function flush(): void {
  if (!scheduled) return;
  scheduled = false;
  lastFlush = performance.now();
  const events = queue;
  queue = [];
  for (const e of events) apply(e);
  live.version.set(live.version.get() + 1);
}

function apply(e: GatewayEvent): void {
  switch (e.type) {
    case 'summary':
      live.summary = e;
      return;
    case 'presence': {
      const i = live.city?.index.get(e.deviceId);
      if (i !== undefined && live.city!.status[i] !== 2) live.city!.status[i] = e.online ? 0 : 1;
      return;
    }
    case 'alarm':
      if (e.transition === 'raised') {
        live.raised.push(e.at);
        if (e.alarm.severity === 'critical') live.lastCritical = e.alarm;
      }
      putAlarm(e.alarm);
      return;
    case 'command':
      live.commands.push(e);
      if (live.commands.length > 2000) live.commands.splice(0, 1000);
      return;
  }
}

function putAlarm(a: AlarmView): void {
  let ids = alarmsByDevice.get(a.deviceId);
  if (a.state === 'closed') {
    live.alarms.delete(a.id);
    ids?.delete(a.id);
  } else {
    live.alarms.set(a.id, a);
    if (!ids) {
      ids = new Set();
      alarmsByDevice.set(a.deviceId, ids);
    }
    ids.add(a.id);
  }
  const city = live.city;
  const i = city?.index.get(a.deviceId);
  if (!city || i === undefined) return;
  let worst = -1;
  for (const id of ids ?? []) {
    const open = live.alarms.get(id);
    if (!open || isShelved(open)) continue;
    const s = SEVERITIES.indexOf(open.severity);
    if (worst < 0 || s < worst) worst = s;
  }
  city.alarm[i] = worst;
}

/**
 * Shelved as the gateway says: it clears `shelvedUntil` when the shelf expires and sends the
 * alarm again. Not compared with this browser's clock, which may be hours off the gateway's.
 */
export function isShelved(a: AlarmView): boolean {
  return a.shelvedUntil !== null;
}

/** Alarms raised within the flood window (the list is pruned as it is read). */
export function recentRaised(now = Date.now()): number {
  const from = now - FLOOD.windowMs;
  while (live.raised.length && live.raised[0] < from) live.raised.shift();
  return live.raised.length;
}

/** An alarm the API just answered (after ack or shelve): shown at once, before its event arrives. */
export function applyAlarm(a: AlarmView): void {
  putAlarm(a);
  live.version.set(live.version.get() + 1);
}
