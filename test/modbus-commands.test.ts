import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modbusModule } from '../adapters/modbus/modbus-module.ts';
import type { ModbusDeviceSimulator } from '../simulators/modbus-device.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { meterAndStation } from './helpers/modbus.ts';
import { eventually } from './helpers/wait.ts';

/** Commands to a Modbus device go through the same API and lifecycle as MQTT ones. */
describe('commands to Modbus devices through the command API', () => {
  let gw: TestGateway;
  let sim: ModbusDeviceSimulator;
  const status = async (id: string) => (await gw.api('GET', `/api/commands/${id}`)).body;

  beforeAll(async () => {
    gw = await startTestGateway({ modules: [modbusModule({ pollIntervalMs: 200, requestTimeoutMs: 500 })] });
    sim = await meterAndStation(gw, { meter: 'em-mb-api', station: 'ws-mb-api' });
    await eventually(
      async () => (await gw.api('GET', '/api/devices?status=online')).body.total,
      (n) => n === 2,
    );
  });
  afterAll(async () => {
    await gw?.stop();
    await sim?.stop();
  });

  it('setValve: queued, sent, delivered after the write, succeeded after the read-back', async () => {
    const res = await gw.api('POST', '/api/devices/ws-mb-api/commands', {
      name: 'setValve',
      params: { percent: 33.3 },
    });
    expect(res.status).toBe(201);
    const done = await eventually(
      () => status(res.body.id),
      (c) => ['succeeded', 'failed', 'timed_out'].includes(c.status),
    );
    expect(done.status, done.error).toBe('succeeded');
    expect(done.history.map((h: { status: string }) => h.status)).toEqual([
      'queued',
      'sent',
      'delivered',
      'succeeded',
    ]);
    expect(sim.unit(7)!.reading().valve_percent).toBeCloseTo(33.3, 5);
    const device = await eventually(
      async () => (await gw.api('GET', '/api/devices/ws-mb-api')).body,
      (d) => d.lastReading?.valve_percent === 33.3,
    );
    expect(device.desiredState).toMatchObject({ valve_percent: 33.3 });
  });

  it('an exception from the device fails the command with its reason', async () => {
    const undo = sim.unit(1)!.failOn({ table: 'coil', address: 0, code: 2, access: 'write' });
    try {
      const res = await gw.api('POST', '/api/devices/em-mb-api/commands', {
        name: 'setRelay',
        params: { closed: false },
        confirm: true,
      });
      const done = await eventually(
        () => status(res.body.id),
        (c) => ['succeeded', 'failed', 'timed_out'].includes(c.status),
      );
      expect(done.status).toBe('failed');
      expect(done.error).toMatch(/Modbus exception 2 \(illegal data address\)/);
    } finally {
      undo();
    }
  });

  it('a command to an unreachable Modbus device waits, then goes out when it answers again', async () => {
    await sim.stop();
    await eventually(
      async () => (await gw.api('GET', '/api/devices/em-mb-api')).body.status,
      (s) => s === 'offline',
    );
    const res = await gw.api('POST', '/api/devices/em-mb-api/commands', {
      name: 'setRelay',
      params: { closed: true },
    });
    expect(res.body.status).toBe('queued');
    await sim.start();
    const done = await eventually(
      () => status(res.body.id),
      (c) => c.status === 'succeeded',
      15_000,
    );
    expect(done.status).toBe('succeeded');
    expect(sim.unit(1)!.reading().relay_closed).toBe(true);
  });
});
