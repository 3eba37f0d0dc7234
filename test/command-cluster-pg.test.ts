import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../device-registry/audit.ts';
import type { Command } from '../device-registry/commands.ts';
import { type Db, openRegistryDb } from '../device-registry/db.ts';
import { DeviceStore } from '../device-registry/devices.ts';
import { PgCommandStore } from '../device-registry/pg/pg-commands.ts';
import { openPgRegistry, type PgPool } from '../device-registry/pg/pg-db.ts';
import { SqliteDeviceRows } from '../device-registry/sqlite-device-rows.ts';
import type { ModelSpec } from '../firmware-specs/define-device.ts';
import { loadSpecs } from '../firmware-specs/index.ts';
import { systemClock } from '../gateway/clock.ts';
import type { ClusterBus, ClusterMessages, ClusterTopic } from '../gateway/cluster/cluster-bus.ts';
import { BulkRollouts } from '../gateway/commands/bulk-rollout.ts';
import { CommandService } from '../gateway/commands/command-service.ts';
import type { GatewayContext } from '../gateway/context.ts';
import type { DeviceLink } from '../gateway/device-link.ts';
import { createEventBus, type GatewayEvent } from '../gateway/events/bus.ts';
import { isRelayed } from '../gateway/events/relayed-events.ts';
import { createLogger } from '../gateway/logger.ts';
import { createMetrics } from '../gateway/metrics.ts';
import { createTestDatabase, type TestDatabase } from './helpers/pg.ts';

/**
 * Two command services on one PostgreSQL database: two nodes of a cluster. The bus between them
 * is an in-process stand-in for the Redis one (the ClusterBus contract: messages reach the other
 * nodes, later, never the sender); each node has its own device registry copy and its own
 * device connections (a stand-in link: which devices are connected here, what was sent to them).
 */
const DEVICES = [
  { id: 'sl-1', model: 'lumina-slc300' },
  { id: 'sl-2', model: 'lumina-slc300' },
  { id: 'sl-3', model: 'lumina-slc300' },
  { id: 'ws-1', model: 'aquanet-ws200' },
  { id: 'em-1', model: 'mekong-mk1p', firmware: '3.0' },
  { id: 'em-2', model: 'mekong-mk1p', firmware: '3.0' },
];

type Listener = (message: never, from: string) => void;
/** Topics whose messages are lost (Redis pub/sub delivers at most once). */
const lost = new Set<ClusterTopic>();
function clusterHub() {
  const nodes = new Map<string, Map<ClusterTopic, Listener[]>>();
  return (nodeId: string): ClusterBus => {
    const mine = new Map<ClusterTopic, Listener[]>();
    nodes.set(nodeId, mine);
    return {
      nodeId,
      publish<T extends ClusterTopic>(topic: T, message: ClusterMessages[T]) {
        if (lost.has(topic)) return;
        for (const [id, subs] of nodes)
          if (id !== nodeId)
            for (const fn of subs.get(topic) ?? []) setImmediate(() => fn(message as never, nodeId));
      },
      subscribe<T extends ClusterTopic>(topic: T, fn: (message: ClusterMessages[T], from: string) => void) {
        mine.set(topic, [...(mine.get(topic) ?? []), fn as Listener]);
      },
      async close() {
        nodes.delete(nodeId);
      },
    };
  };
}

interface Node {
  id: string;
  service: CommandService;
  bulk: BulkRollouts;
  connected: Set<string>;
  sent: Array<{ deviceId: string; topic: string }>;
  events: GatewayEvent[];
  db: Db;
  pool: PgPool;
}

let pg: TestDatabase;
let specs: Map<string, ModelSpec>;
const dir = mkdtempSync(join(tmpdir(), 'citygate-command-cluster-'));
const nodes: Node[] = [];
const hub = clusterHub();

async function startNode(id: string, opts: { sweepMs?: number } = {}): Promise<Node> {
  const db = openRegistryDb(join(dir, `${id}-${nodes.length}.db`));
  const devices = await DeviceStore.open(new SqliteDeviceRows(db, new AuditLog(db)), specs);
  for (const d of DEVICES)
    await devices.register({ firmware: '1.0', ...d, district: 'Hoàn Kiếm', ward: 'Hàng Bạc' }, 0);
  const connected = new Set<string>();
  const sent: Node['sent'] = [];
  const link = {
    isConnected: (deviceId: string) => connected.has(deviceId),
    commandQos: (deviceId: string) => (connected.has(deviceId) ? 1 : null),
    send(deviceId: string, topic: string) {
      if (!connected.has(deviceId)) return null;
      sent.push({ deviceId, topic });
      return { qos: 1 as const, messageId: sent.length };
    },
    disconnect: (deviceId: string) => connected.delete(deviceId),
    onCommandChannel() {},
    onResumedCommandAck() {},
  } satisfies DeviceLink;
  const events: GatewayEvent[] = [];
  const bus = createEventBus(() => {});
  bus.subscribe((e) => events.push(e));
  const pool = await openPgRegistry(pg.url);
  const log = createLogger('silent');
  const ctx = {
    clock: systemClock,
    log,
    metrics: createMetrics(),
    devices,
    audit: new AuditLog(db),
    link,
    adapters: [],
    events: bus,
    pg: pool,
    cluster: hub(id),
  } as unknown as GatewayContext;
  const service = new CommandService(ctx, new PgCommandStore(pool), {
    defaultTtlSeconds: 3600,
    defaultTimeoutSeconds: 30,
    sweepMs: opts.sweepMs ?? 60_000,
  });
  await service.start();
  const node: Node = { id, service, bulk: new BulkRollouts(ctx, service), connected, sent, events, db, pool };
  nodes.push(node);
  return node;
}

async function stopNode(n: Node): Promise<void> {
  n.bulk.stop();
  n.service.stop();
  await n.pool.end();
  n.db.close();
  nodes.splice(nodes.indexOf(n), 1);
}

const statusOf = async (n: Node, id: string) => (await n.service.store.get(id))?.status;
const eventsOf = (n: Node, id: string) =>
  n.events.flatMap((e) => (e.type === 'command' && e.commandId === id ? [e.status] : []));

beforeAll(async () => {
  pg = await createTestDatabase('command_cluster');
  specs = await loadSpecs();
});
afterAll(async () => {
  for (const n of [...nodes]) await stopNode(n);
  await pg?.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe('commands across two nodes on PostgreSQL', () => {
  let a: Node;
  let b: Node;
  beforeAll(async () => {
    a = await startNode('node-a');
    b = await startNode('node-b');
  });

  it('a command accepted on A is sent by B, which holds the device; A follows it to its end', async () => {
    b.connected.add('sl-1');
    const { command, created } = await a.service.submit({
      deviceId: 'sl-1',
      name: 'setDimming',
      params: { level: 40 },
      actor: 'alice',
    });
    expect(created).toBe(true);
    expect(command.status).toBe('queued'); // A does not hold the device
    await expect.poll(() => statusOf(a, command.id)).toBe('sent');
    expect(b.sent).toEqual([{ deviceId: 'sl-1', topic: `devices/sl-1/commands/${command.id}` }]);
    expect(a.sent).toEqual([]);
    await b.service.reply('sl-1', command.id, Buffer.from('{"ok":true,"result":{"dim_percent":40}}'));
    expect(await statusOf(a, command.id)).toBe('succeeded');
    // A's live views hear every step, the ones B made included.
    await expect.poll(() => eventsOf(a, command.id)).toEqual(['sent', 'succeeded']);
    // Relayed on A (B queued the webhooks and recorded the effects), B's own on B.
    const relayedOn = (n: Node) =>
      n.events.filter((e) => e.type === 'command' && e.commandId === command.id).map(isRelayed);
    expect(relayedOn(a)).toEqual([true, true]);
    expect(relayedOn(b)).toEqual([false, false]);
    await expect
      .poll(() => a.service.recentCommands('sl-1').find((c: Command) => c.id === command.id)?.status)
      .toBe('succeeded');
  });

  it('a device connected to both nodes (a takeover under way) gets each command once', async () => {
    a.connected.add('em-1');
    b.connected.add('em-1');
    const before = a.sent.length + b.sent.length;
    const submitted = await Promise.all(
      [a, b, a, b].map((n, i) =>
        n.service.submit({
          deviceId: 'em-1',
          name: 'readNow',
          params: {},
          actor: 'alice',
          idempotencyKey: `r${i}`,
        }),
      ),
    );
    await expect
      .poll(async () => Promise.all(submitted.map((s) => statusOf(a, s.command.id))))
      .toEqual(['sent', 'sent', 'sent', 'sent']);
    await new Promise((r) => setTimeout(r, 100)); // late commands.queued messages send nothing more
    expect(a.sent.length + b.sent.length - before).toBe(4);
    a.connected.delete('em-1');
    b.connected.delete('em-1');
  });

  it('holds the valve guard across nodes: of two moves at once, one is refused', async () => {
    const results = await Promise.allSettled(
      [a, b].map((n) =>
        n.service.submit({ deviceId: 'ws-1', name: 'setValve', params: { percent: 30 }, actor: 'alice' }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason.code).toBe('CMD_ERR_RATE_LIMITED');
  });

  it("B's view of the desired state follows a change made on A, from memory", async () => {
    await a.service.submit({ deviceId: 'sl-3', name: 'setDimming', params: { level: 20 }, actor: 'alice' });
    expect(a.service.desiredView('sl-3')).toMatchObject({ dim_percent: 20 });
    await expect.poll(() => b.service.desiredView('sl-3')?.dim_percent).toBe(20);
    await b.service.submit({ deviceId: 'sl-3', name: 'setDimming', params: { level: 70 }, actor: 'bob' });
    await expect.poll(() => a.service.desiredView('sl-3')?.dim_percent).toBe(70);
  });

  it('a bulk roll-out started on A reaches devices held by B and is followed from B', async () => {
    for (const id of ['sl-1', 'sl-2', 'sl-3']) b.connected.add(id);
    const started = await a.bulk.start({
      selector: { ids: ['sl-1', 'sl-2', 'sl-3'] },
      name: 'setDimming',
      params: { level: 55 },
      ratePerSecond: 100,
      actor: 'alice',
    });
    await expect.poll(async () => (await b.bulk.status(started.id)).counts.sent).toBe(3);
    const seen = await b.bulk.status(started.id);
    expect(seen).toMatchObject({ total: 3, submitted: 3, done: false });
    for (const d of seen.devices)
      await b.service.reply(d.deviceId, d.commandId, Buffer.from('{"ok":true,"result":{}}'));
    expect(await b.bulk.status(started.id)).toMatchObject({ done: true, counts: { succeeded: 3 } });
    expect((await a.bulk.status(started.id)).done).toBe(true);
  });

  it('a command whose commands.queued message was lost is sent by the next sweep of the node holding the device', async () => {
    b.connected.add('em-1');
    lost.add('commands.queued');
    const { command } = await a.service.submit({
      deviceId: 'em-1',
      name: 'readNow',
      params: {},
      actor: 'alice',
    });
    lost.clear();
    await new Promise((r) => setTimeout(r, 300));
    await b.service.sweep();
    expect(await statusOf(a, command.id)).toBe('queued'); // within its grace: the message may still come
    await new Promise((r) => setTimeout(r, 5000));
    await b.service.sweep();
    expect(await statusOf(a, command.id)).toBe('sent');
    expect(b.sent.at(-1)).toEqual({ deviceId: 'em-1', topic: `devices/em-1/commands/${command.id}` });
    b.connected.delete('em-1');
  }, 15_000);

  it('a command sent by a node that dies is timed out by the sweep of another', async () => {
    const c = await startNode('node-c');
    c.connected.add('em-2');
    const { command } = await c.service.submit({
      deviceId: 'em-2',
      name: 'readNow',
      params: {},
      timeoutSeconds: 0.3,
      actor: 'alice',
    });
    expect(command.status).toBe('sent');
    await stopNode(c); // its timer dies with it
    expect(await a.service.sweep()).toBe(0); // not yet past its deadline
    await new Promise((r) => setTimeout(r, 400));
    const [byA, byB] = await Promise.all([a.service.sweep(), b.service.sweep()]);
    expect(byA + byB).toBe(1);
    expect(await a.service.store.get(command.id)).toMatchObject({ status: 'timed_out' });
    expect((await a.service.store.history(command.id)).at(-1)?.detail).toBe('no reply within 0.3 s');
  });

  it('the periodic sweep of a running node moves an expired queued command, with nobody asking', async () => {
    const d = await startNode('node-d', { sweepMs: 100 });
    const { command } = await a.service.submit({
      deviceId: 'em-2', // connected nowhere now: it waits
      name: 'readNow',
      params: {},
      ttlSeconds: 1,
      actor: 'alice',
    });
    expect(command.status).toBe('queued');
    await expect.poll(() => statusOf(a, command.id), { timeout: 5000 }).toBe('expired');
    await stopNode(d);
  });
});
