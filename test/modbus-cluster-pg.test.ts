import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ModbusModule, modbusModule } from '../adapters/modbus/modbus-module.ts';
import type { ModbusDeviceSimulator } from '../simulators/modbus-device.ts';
import { clusterSettings } from './helpers/cluster.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { meterAndStation } from './helpers/modbus.ts';
import { createTestDatabase, type TestDatabase } from './helpers/pg.ts';
import { createTestRedis } from './helpers/redis.ts';
import { eventually } from './helpers/wait.ts';

const ADMIN = 'modbus-cluster-admin-0123456789';
const FINAL = ['succeeded', 'failed', 'timed_out', 'expired', 'cancelled'];

/**
 * Modbus units in a cluster of two nodes (in-process, on a test database and Redis prefix, with
 * a real Modbus TCP peer): one node polls them, and a command accepted by the other is carried
 * out by the polling node. When that node stops, the other takes the units over.
 */
describe('Modbus devices in a cluster', () => {
  const redis = createTestRedis('modbus');
  const run = randomBytes(3).toString('hex');
  const ids = { meter: `em-${run}-mb`, station: `ws-${run}-mb` };
  let db: TestDatabase;
  let sim: ModbusDeviceSimulator;
  const nodes: Array<{ gw: TestGateway; modbus: ModbusModule; stopped: boolean }> = [];

  const node = async (nodeId: string) => {
    const modbus = modbusModule({ pollIntervalMs: 200, requestTimeoutMs: 500 });
    const gw = await startTestGateway({
      config: clusterSettings(db, redis, nodeId, ADMIN),
      modules: [modbus],
    });
    nodes.push({ gw, modbus, stopped: false });
  };
  const live = () => nodes.filter((n) => !n.stopped);
  /** The one live node whose adapter polls both units, once there is exactly one. */
  const poller = () =>
    eventually(
      () => live().filter((n) => n.modbus.adapter.servedDevices().length > 0),
      (held) => held.length === 1 && [ids.meter, ids.station].every((id) => held[0].modbus.adapter.holds(id)),
      15_000,
    ).then((held) => {
      expect(held.map((n) => n.modbus.adapter.servedDevices().sort())).toEqual([
        [ids.meter, ids.station].sort(),
      ]);
      return held[0];
    });
  const finished = (gw: TestGateway, id: string) =>
    eventually(
      async () => (await gw.api('GET', `/api/commands/${id}`)).body,
      (c) => FINAL.includes(c.status),
      15_000,
    );

  beforeAll(async () => {
    db = await createTestDatabase('modbus_cluster');
    await node('modbus-a');
    await node('modbus-b');
    sim = await meterAndStation(nodes[0].gw, ids);
  });
  afterAll(async () => {
    for (const n of live()) await n.gw.stop();
    await sim?.stop();
    await db?.drop();
    await redis.cleanup();
  });

  it('one node polls the units; a command through the other is carried out by it', async () => {
    const polling = await poller();
    const other = live().find((n) => n !== polling)!;
    await eventually(
      async () => (await other.gw.api('GET', `/api/devices/${ids.station}`)).body.status,
      (s) => s === 'online',
    );
    // Polled once a node, not once per node.
    expect(polling.modbus.adapter.stats().polls).toBeGreaterThan(0);
    expect(other.modbus.adapter.stats().polls).toBe(0);

    const res = await other.gw.api('POST', `/api/devices/${ids.station}/commands`, {
      name: 'setValve',
      params: { percent: 41.5 },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const done = await finished(other.gw, res.body.id);
    expect(done.status, done.error).toBe('succeeded');
    expect(done.history.map((h: { status: string }) => h.status)).toEqual([
      'queued',
      'sent',
      'delivered',
      'succeeded',
    ]);
    expect(sim.unit(7)!.reading().valve_percent).toBeCloseTo(41.5, 5);
    expect(other.modbus.adapter.stats().writes).toBe(0);
  });

  it('the other node takes the units over when the polling node stops', async () => {
    const polling = await poller();
    await polling.gw.stop();
    polling.stopped = true;
    const next = await poller();
    expect(next).not.toBe(polling);
    const res = await next.gw.api('POST', `/api/devices/${ids.meter}/commands`, {
      name: 'setRelay',
      params: { closed: false },
      confirm: true,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const done = await finished(next.gw, res.body.id);
    expect(done.status, done.error).toBe('succeeded');
    expect(sim.unit(1)!.reading().relay_closed).toBe(false);
  });
});
