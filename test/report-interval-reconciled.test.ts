import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedDevice } from '../simulators/mqtt-device.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';

describe('the air-quality report interval as desired state', () => {
  let gw: TestGateway;
  const devices: SimulatedDevice[] = [];
  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(async () => {
    await Promise.all(devices.map((d) => d.stop()));
    await gw?.stop();
  });

  it('is desired, reported, and set again on a sensor that came back with its factory interval', async () => {
    const spec = gw.gateway.ctx.specs.get('airviet-aq5')!;
    const { id, secret } = await gw.register({ id: 'aq-interval-1', model: 'airviet-aq5', firmware: '2.0' });
    const boot = async () => {
      const d = new SimulatedDevice({
        id,
        spec,
        firmware: '2.0',
        url: gw.mqttUrl,
        secret,
        publishOnConnect: false,
      });
      devices.push(d);
      await d.start();
      return d;
    };
    const device = async () => (await gw.api('GET', `/api/devices/${id}`)).body;

    const first = await boot();
    await expect
      .poll(async () => (await device()).reportedState)
      .toMatchObject({ report_interval_seconds: 60 });
    const sent = await gw.api('POST', `/api/devices/${id}/commands`, {
      name: 'setReportInterval',
      params: { seconds: 30 },
    });
    expect(sent.status).toBe(201);
    await expect
      .poll(async () => (await gw.api('GET', `/api/commands/${sent.body.id}`)).body.status)
      .toBe('succeeded');
    expect(first.reportIntervalMs).toBe(30_000);
    expect(await device()).toMatchObject({
      desiredState: { report_interval_seconds: 30 },
      reportedState: { report_interval_seconds: 30 },
    });
    await first.stop();
    await expect.poll(async () => (await device()).status).toBe('offline');

    // A power cut: the sensor boots with its factory 60 s and reports it.
    const second = await boot();
    await expect.poll(() => second.reportIntervalMs).toBe(30_000);
    await expect
      .poll(async () => (await device()).reportedState)
      .toMatchObject({ report_interval_seconds: 30 });
    const commands = (await gw.api('GET', `/api/devices/${id}/commands`)).body.commands;
    expect(commands[0]).toMatchObject({
      name: 'setReportInterval',
      requestedBy: 'reconciler',
      status: 'succeeded',
    });
  });

  it('refuses a reported interval outside what the command allows', async () => {
    const { id, secret } = await gw.register({ id: 'aq-interval-2', model: 'airviet-aq5', firmware: '2.0' });
    const client = await gw.connect(id, secret);
    await client.publishAsync(`devices/${id}/state`, JSON.stringify({ report_interval_seconds: 0.5 }), {
      qos: 1,
    });
    await expect
      .poll(
        async () =>
          (await gw.api('GET', `/api/quarantine?deviceId=${id}`)).body.entries[0]?.reasons?.[0]?.path,
      )
      .toBe('.report_interval_seconds');
    await client.endAsync();
  });
});
