import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';

describe('Prometheus metrics', () => {
  let gw: TestGateway;
  const scrape = () => fetch(`${gw.httpUrl}/metrics`).then((r) => r.text());
  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(async () => gw?.stop());

  it('name process and Node.js metrics once: citygate_process_…, citygate_nodejs_…', async () => {
    const text = await scrape();
    expect(text).toMatch(/^citygate_process_cpu_user_seconds_total \d/m);
    expect(text).toMatch(/^citygate_nodejs_eventloop_lag_max_seconds \d/m);
    expect(text).not.toMatch(/citygate_process_process_|citygate_process_nodejs_/);
  });

  it('count devices online by family', async () => {
    const lamp = await gw.register({ id: 'sl-metrics-1', model: 'lumina-slc300', firmware: '1.0' });
    await gw.register({ id: 'sl-metrics-2', model: 'lumina-slc300', firmware: '1.0' });
    expect(await scrape()).toMatch(/^citygate_devices_online\{family="streetlight"\} 0$/m);
    const client = await gw.connect(lamp.id, lamp.secret);
    await expect.poll(scrape).toMatch(/^citygate_devices_online\{family="streetlight"\} 1$/m);
    expect(await scrape()).toMatch(/^citygate_devices_online\{family="water_station"\} 0$/m);
    await client.endAsync();
    await expect.poll(scrape).toMatch(/^citygate_devices_online\{family="streetlight"\} 0$/m);
  });

  it('count commands by final status and time them, by command and family', async () => {
    const dev = await gw.register({ id: 'sl-metrics-3', model: 'lumina-slc300', firmware: '1.0' });
    const client = await gw.connect(dev.id, dev.secret);
    client.on('message', (topic) => {
      const commandId = topic.split('/')[3];
      void client.publishAsync(
        `devices/${dev.id}/commands/${commandId}/reply`,
        JSON.stringify({ ok: true, result: { dim_percent: 20 } }),
        { qos: 1 },
      );
    });
    await client.subscribeAsync(`devices/${dev.id}/commands/+`, { qos: 1 });
    const sent = await gw.api('POST', `/api/devices/${dev.id}/commands`, {
      name: 'setDimming',
      params: { level: 20 },
    });
    expect(sent.status).toBe(201);
    await expect
      .poll(async () => (await gw.api('GET', `/api/commands/${sent.body.id}`)).body.status)
      .toBe('succeeded');
    const offline = await gw.register({ id: 'sl-metrics-4', model: 'lumina-slc300', firmware: '1.0' });
    const queued = await gw.api('POST', `/api/devices/${offline.id}/commands`, {
      name: 'setDimming',
      params: { level: 5 },
    });
    expect((await gw.api('POST', `/api/commands/${queued.body.id}/cancel`)).status).toBe(200);

    const text = await scrape();
    expect(text).toMatch(
      /^citygate_commands_total\{command="setDimming",family="streetlight",status="succeeded"\} 1$/m,
    );
    expect(text).toMatch(
      /^citygate_commands_total\{command="setDimming",family="streetlight",status="cancelled"\} 1$/m,
    );
    expect(text).toMatch(
      /^citygate_command_duration_seconds_count\{command="setDimming",family="streetlight"\} 2$/m,
    );
    expect(text).toMatch(
      /^citygate_command_duration_seconds_bucket\{le="\+Inf",command="setDimming",family="streetlight"\} 2$/m,
    );
    await client.endAsync();
  });
});
