import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';

describe('engineer CLI', () => {
  let gw: TestGateway;
  const cli = (args: string[]) => runCli(gw, args);

  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(async () => gw?.stop());

  it('sends a command, waits for the device reply and prints the outcome', async () => {
    const dev = await gw.register({
      id: 'sl-cli-1',
      model: 'lumina-slc300',
      firmware: '1.0',
      district: 'Hoàn Kiếm',
      ward: 'Hàng Bạc',
    });
    const client = await gw.connect(dev.id, dev.secret);
    client.on('message', (topic) => {
      client.publish(`${topic}/reply`, JSON.stringify({ ok: true, result: { dim_percent: 35 } }), { qos: 1 });
    });
    await client.subscribeAsync(`devices/${dev.id}/commands/+`, { qos: 1 });
    const res = await cli(['send', dev.id, 'setDimming', 'level=35']);
    expect(res.code).toBe(0);
    expect(res.out).toMatch(/cmd_\w+ succeeded/);
    expect(res.out).toContain('result: {"dim_percent":35}');
    const list = await cli(['devices', '--district', 'Hoàn Kiếm']);
    expect(list.out).toMatch(/sl-cli-1\s+lumina-slc300\s+1\.0\s+Hoàn Kiếm\s+Hàng Bạc\s+online/);
    await client.endAsync();
  });

  it('prints the API error naming the field and exits non-zero', async () => {
    const res = await cli(['send', 'sl-cli-1', 'setDimming', 'level=140']);
    expect(res.code).toBe(1);
    expect(res.err).toContain('citygate: 400 params.level');
  });

  it('shows the quarantine', async () => {
    const dev = await gw.register({ id: 'sl-cli-2', model: 'lumina-slc300', firmware: '1.0' });
    const client = await gw.connect(dev.id, dev.secret);
    await client.publishAsync(`devices/${dev.id}/telemetry`, 'garbage', { qos: 1 });
    await client.endAsync();
    const res = await cli(['quarantine', '--device', dev.id]);
    expect(res.out).toMatch(/sl-cli-2\s+\$: not JSON/);
  });
});
