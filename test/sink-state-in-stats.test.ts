import { afterEach, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { startVictoria, stopAndRemove, type Victoria } from './helpers/victoria.ts';

describe('the sink in /api/stats', () => {
  let vm: Victoria | undefined;
  let gw: TestGateway | undefined;
  afterEach(async () => {
    await gw?.stop();
    if (vm) await stopAndRemove(vm);
  });

  it('shows the error while the database is down and only as past, with its times, once a write succeeded', async () => {
    vm = await startVictoria();
    gw = await startTestGateway({ influxUrl: vm.url });
    const { id, secret } = await gw.register({
      id: 'sl-sinkstate',
      model: 'lumina-slc300',
      firmware: '1.0.0',
    });
    const client = await gw.connect(id, secret);
    const publish = (i: number) =>
      client.publishAsync(
        `devices/${id}/telemetry`,
        JSON.stringify({ on: true, dim: 10, p: 50, lux: 1, hrs: i, ts: Date.now() }),
        { qos: 1 },
      );
    const sink = async () => (await gw!.api('GET', '/api/stats')).body.sink;

    await vm.stop();
    await publish(1);
    await expect.poll(sink, { timeout: 10_000 }).toMatchObject({ up: false, lastError: expect.any(String) });

    await vm.restart();
    await publish(2);
    await expect.poll(sink, { timeout: 15_000 }).toMatchObject({ up: true, lastError: null });
    const after = await sink();
    expect(after.pastError.message).toEqual(expect.any(String));
    expect(Date.parse(after.pastError.recoveredAt)).toBeGreaterThanOrEqual(Date.parse(after.pastError.at));
    await client.endAsync();
  });
});
