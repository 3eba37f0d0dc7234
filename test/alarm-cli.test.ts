import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.ts';
import { fakeAlarmRules } from './helpers/fake-alarm-engine.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';

describe('alarms in the engineer CLI', () => {
  let gw: TestGateway;
  const cli = (args: string[], token = gw.admin) => runCli(gw, args, { token });
  const raise = async (id: string, district: string) => {
    const dev = await gw.register({ id, model: 'lumina-slc300', firmware: '1.0', district });
    const c = await gw.connect(dev.id, dev.secret);
    const reading = { on: true, dim: 50, p: 40, lux: 1, hrs: 2, err: 4 };
    await c.publishAsync(`devices/${id}/telemetry`, JSON.stringify(reading), { qos: 1 });
    await c.endAsync();
    return (await gw.api('GET', `/api/alarms?device=${id}`)).body.alarms[0].id as string;
  };

  beforeAll(async () => {
    gw = await startTestGateway({ alarmRules: fakeAlarmRules() });
  });
  afterAll(async () => gw?.stop());

  it('lists alarms filtered by district and severity', async () => {
    const id = await raise('sl-cli-a1', 'Long Biên');
    await raise('sl-cli-a2', 'Hà Đông');
    const res = await cli(['alarms', '--district', 'Long Biên', '--severity', 'major']);
    expect(res.code).toBe(0);
    expect(res.out).toMatch(
      new RegExp(`${id}\\s+major\\s+active_unacknowledged\\s+sl-cli-a1\\s+Long Biên\\s+lamp_fault\\s+1`),
    );
    expect(res.out).not.toContain('sl-cli-a2');
    expect(res.out).toContain('1 of 1');
  });

  it('acknowledges and shelves as an operator, and shows who did it', async () => {
    const id = await raise('sl-cli-b1', 'Hoàng Mai');
    const operator = (await gw.api('POST', '/api/tokens', { name: 'night-shift', role: 'operator' })).body
      .token;
    const ack = await cli(['alarm', 'ack', id], operator);
    expect(ack.out).toContain(`${id} major active_acknowledged (acknowledged by night-shift)`);
    const shelve = await cli(
      ['alarm', 'shelve', id, '--minutes', '45', '--reason', 'crew on site'],
      operator,
    );
    expect(shelve.code).toBe(0);
    expect(shelve.out).toMatch(/shelved until \S+: crew on site/);
    const show = await cli(['alarm', 'show', id]);
    expect(show.out).toMatch(/acknowledged\s+active_acknowledged\s+night-shift/);
    expect(show.out).toMatch(/shelved\s+active_acknowledged\s+night-shift\s+until \S+: crew on site/);
    const shelvedList = await cli(['alarms', '--device', 'sl-cli-b1']);
    expect(shelvedList.out).toMatch(/until \d{4}-/);
  });

  it('prints the refusal for a viewer and for a bad shelve, exiting non-zero', async () => {
    const id = await raise('sl-cli-c1', 'Thanh Xuân');
    const viewer = (await gw.api('POST', '/api/tokens', { name: 'wall', role: 'viewer' })).body.token;
    const denied = await cli(['alarm', 'ack', id], viewer);
    expect(denied.code).toBe(1);
    expect(denied.err).toContain('citygate: 403 role viewer may not acknowledge or shelve alarms');
    const bad = await cli(['alarm', 'shelve', id, '--minutes', '99999', '--reason', 'x']);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('citygate: 400 body.minutes');
  });
});
