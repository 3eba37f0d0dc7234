import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';

// Each CLI run is a Node process loading TypeScript through tsx: seconds each on a busy machine.
describe('CLI operations commands against a real gateway', { timeout: 120_000 }, () => {
  let gw: TestGateway;
  let lamp: MqttClient;
  const cli = (args: string[], token?: string) => runCli(gw, args, { token });

  beforeAll(async () => {
    gw = await startTestGateway();
    // A lamp that obeys: every command succeeds.
    const dev = await gw.register({
      id: 'sl-ops-1',
      model: 'lumina-slc300',
      firmware: '1.0',
      ward: 'Hàng Bạc',
    });
    lamp = await gw.connect(dev.id, dev.secret);
    lamp.on('message', (topic) => {
      lamp.publish(`${topic}/reply`, JSON.stringify({ ok: true, result: {} }), { qos: 1 });
    });
    await lamp.subscribeAsync(`devices/${dev.id}/commands/+`, { qos: 1 });
  });
  afterAll(async () => {
    await lamp?.endAsync();
    await gw?.stop();
  });

  it('tokens: creates one with a role, lists it, revokes it, and the revoked one is refused', async () => {
    const created = await cli(['tokens', 'create', 'night-shift', '--role', 'operator']);
    expect(created.code).toBe(0);
    const [, id, secret] = created.out.match(/token (\S+) "night-shift" \(operator\).*\n\s+(\S+)/)!;
    expect((await gw.api('GET', '/api/devices', undefined, secret)).status).toBe(200);
    expect((await cli(['tokens'])).out).toMatch(new RegExp(`${id}\\s+night-shift\\s+operator\\s+admin`));
    expect((await cli(['tokens', 'revoke', id])).out).toBe(`token ${id} revoked\n`);
    const list = JSON.parse((await cli(['tokens', 'list', '--json'])).out);
    expect(list.tokens.find((t: { id: string }) => t.id === id).revokedAt).toEqual(expect.any(Number));
    expect((await gw.api('GET', '/api/devices', undefined, secret)).status).toBe(401);
    const viewer = (await gw.api('POST', '/api/tokens', { name: 'noc', role: 'viewer' })).body.token;
    const refused = await cli(['tokens', 'create', 'x', '--role', 'admin'], viewer);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/citygate: 403 role viewer may not create tokens/);
  });

  it('stats and dead letters', async () => {
    const [stats, dead] = await Promise.all([cli(['stats']), cli(['dead-letters'])]);
    expect(stats.out).toMatch(/^devices\s+\d+$/m);
    expect(stats.out).toContain('sink archive: up');
    expect(dead.out).toContain('0 shown, 0 dead letters');
  });

  it('cancel: a queued command to an offline device', async () => {
    await gw.register({ id: 'sl-ops-2', model: 'lumina-slc300', firmware: '1.0' });
    const sent = await cli(['send', 'sl-ops-2', 'setDimming', 'level=10', '--no-wait']);
    const commandId = sent.out.match(/^(cmd_\w+) queued/m)![1];
    const res = await cli(['cancel', commandId]);
    expect(res.out).toBe(`${commandId} setDimming -> sl-ops-2: cancelled\n`);
    const again = await cli(['cancel', commandId]);
    expect(again.code).toBe(1);
    expect(again.err).toContain('409');
  });

  it('models <id>: each command with its parameters, types, ranges, units and guards', async () => {
    const [lampModel, meter, aq] = await Promise.all([
      cli(['models', 'lumina-slc300']),
      cli(['models', 'vinasmart-em310']),
      cli(['models', 'airviet-aq5']),
    ]);
    expect(lampModel.out).toMatch(/setDimming \(state\): Dim the lamp/);
    expect(lampModel.out).toMatch(/^\s+level\s+integer 0\.\.100 %$/m);
    expect(lampModel.out).toMatch(/^\s+on\s+boolean$/m);
    expect(meter.out).toMatch(/setRelay \(action\).*\n\s+needs --confirm for some values/);
    expect(meter.out).toMatch(/^\s+closed\s+boolean$/m);
    expect(meter.out).toMatch(/^energy_kwh\s+kWh\s+3$/m);
    expect(aq.out).toMatch(/^\s+seconds\s+integer 5\.\.3600 s$/m);
    expect((await cli(['models', 'no-such'])).err).toContain('404');
  });

  it('device: identity, last reading with units, reported vs desired state, recent commands', async () => {
    const dev = await gw.register({
      id: 'sl-ops-3',
      model: 'lumina-slc300',
      firmware: '1.0',
      district: 'Ba Đình',
    });
    const client = await gw.connect(dev.id, dev.secret);
    await client.publishAsync(
      `devices/${dev.id}/telemetry`,
      JSON.stringify({ on: true, dim: 30, p: 50.5, lux: 12, hrs: 100 }),
      { qos: 1 },
    );
    await client.publishAsync(`devices/${dev.id}/state`, JSON.stringify({ dim_percent: 30, lamp_on: true }), {
      qos: 1,
    });
    await client.endAsync();
    await expect
      .poll(async () => (await gw.api('GET', `/api/devices/${dev.id}`)).body.status)
      .toBe('offline');
    await gw.api('POST', `/api/devices/${dev.id}/commands`, { name: 'setDimming', params: { level: 40 } });
    const res = await cli(['device', dev.id]);
    expect(res.code).toBe(0);
    expect(res.out).toMatch(/^sl-ops-3\s+offline/);
    expect(res.out).toMatch(/model\s+lumina-slc300 \(streetlight\), firmware 1\.0/);
    expect(res.out).toMatch(/place\s+Ba Đình/);
    expect(res.out).toMatch(/^lamp_power_w\s+50\.5 W$/m);
    expect(res.out).toMatch(/^burn_hours\s+100 h$/m);
    expect(res.out).toMatch(/^dim_percent\s+30 %\s+40 %\s+differs$/m);
    expect(res.out).toMatch(/^lamp_on\s+true\s+-$/m);
    expect(res.out).toMatch(/^cmd_\w+\s+\S+\s+setDimming\s+\{"level":40\}\s+queued\s+admin/m);
    const raw = JSON.parse((await cli(['device', dev.id, '--json'])).out);
    expect(raw).toMatchObject({
      id: 'sl-ops-3',
      desiredState: { dim_percent: 40 },
      lastReading: { dim_percent: 30 },
    });
  });

  it('--json on every command prints the API answer', async () => {
    const sent = JSON.parse((await cli(['send', 'sl-ops-1', 'setDimming', 'level=20', '--json'])).out);
    expect(sent).toMatchObject({ deviceId: 'sl-ops-1', name: 'setDimming', status: 'succeeded' });
    const runs: Array<[string[], (body: any) => void]> = [
      [['devices'], (b) => expect(b.devices.length).toBe(b.total)],
      [['device', 'sl-ops-1'], (b) => expect(b.id).toBe('sl-ops-1')],
      [['command', sent.id], (b) => expect(b.history.length).toBeGreaterThan(2)],
      [['quarantine'], (b) => expect(b.entries).toEqual(expect.any(Array))],
      [['models'], (b) => expect(b.models.length).toBeGreaterThan(5)],
      [['models', 'lumina-slc300'], (b) => expect(b.fields.dim_percent).toEqual({ unit: '%', decimals: 1 })],
      [['alarms'], (b) => expect(b.alarms).toEqual(expect.any(Array))],
      [['stats'], (b) => expect(b.sink.name).toBe('archive')],
      [['tokens'], (b) => expect(b.tokens.length).toBeGreaterThan(0)],
      [['dead-letters'], (b) => expect(b.total).toBe(0)],
      [['webhooks'], (b) => expect(b).toBeTypeOf('object')],
      [['bulk', 'switchLamp', 'on=true', '--ids', 'sl-ops-1'], (b) => expect(b.counts.succeeded).toBe(1)],
    ];
    const results = await Promise.all(runs.map(([args]) => cli([...args, '--json'])));
    for (const [i, [args, check]] of runs.entries()) {
      expect(results[i].err, args.join(' ')).toBe('');
      check(JSON.parse(results[i].out));
    }
  });
});
