import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { eventually } from './helpers/wait.ts';

const run = promisify(execFile);
const hasMosquitto = existsSync('/usr/bin/mosquitto_pub') && existsSync('/usr/bin/mosquitto_sub');

/** Interoperability with a client we did not write: Debian's mosquitto-clients. */
describe.skipIf(!hasMosquitto)('a third-party MQTT client (mosquitto_pub / mosquitto_sub)', () => {
  let gw: TestGateway;
  let dev: { id: string; secret: string };
  const auth = () => [
    '-h',
    '127.0.0.1',
    '-p',
    String(gw.gateway.mqttPort),
    '-i',
    dev.id,
    '-u',
    dev.id,
    '-P',
    dev.secret,
  ];

  beforeAll(async () => {
    gw = await startTestGateway();
    dev = await gw.register({
      id: 'aq-mosquitto',
      model: 'senvn-aqm900',
      firmware: '1.0',
      district: 'Thanh Xuân',
      ward: 'Khương Trung',
    });
  });
  afterAll(async () => gw?.stop());

  it('publishes telemetry at QoS 1 that the gateway stores', async () => {
    const example = gw.gateway.ctx.specs.get('senvn-aqm900')!.firmware['1.x'].example;
    await run('mosquitto_pub', [
      ...auth(),
      '-q',
      '1',
      '-t',
      `devices/${dev.id}/telemetry`,
      '-m',
      JSON.stringify(example),
    ]);
    const device = await eventually(
      async () => (await gw.api('GET', `/api/devices/${dev.id}`)).body,
      (d) => d.lastReading !== null,
    );
    expect(Object.keys(device.lastReading)).toEqual(expect.arrayContaining(['pm25_ugm3', 'no2_ugm3']));
  });

  it('is refused with a wrong password', async () => {
    const res = await run('mosquitto_pub', [
      ...auth().slice(0, -1),
      'wrong',
      '-q',
      '1',
      '-t',
      `devices/${dev.id}/telemetry`,
      '-m',
      '{}',
    ]).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/not authori[sz]ed|bad user name or password/i);
  });

  it('receives a command with mosquitto_sub, and its reply completes the command', async () => {
    const sub = spawn('mosquitto_sub', [
      ...auth(),
      '-q',
      '1',
      '-t',
      `devices/${dev.id}/commands/+`,
      '-v',
      '-C',
      '1',
    ]);
    let out = '';
    sub.stdout.on('data', (d) => (out += d));
    // The command waits until the subscription is in place, then goes out.
    const cmd = (
      await gw.api('POST', `/api/devices/${dev.id}/commands`, {
        name: 'setReportInterval',
        params: { seconds: 120 },
      })
    ).body;
    await new Promise<void>((resolve) => sub.once('exit', () => resolve()));
    const [topic, payload] = [out.slice(0, out.indexOf(' ')), out.slice(out.indexOf(' ') + 1)];
    expect(topic).toBe(`devices/${dev.id}/commands/${cmd.id}`);
    expect(JSON.parse(payload)).toMatchObject({ name: 'setReportInterval', params: { seconds: 120 } });
    await run('mosquitto_pub', [
      ...auth(),
      '-q',
      '1',
      '-t',
      `${topic}/reply`,
      '-m',
      '{"ok":true,"result":{"report_interval_seconds":120}}',
    ]);
    const final = await eventually(
      async () => (await gw.api('GET', `/api/commands/${cmd.id}`)).body,
      (c) => c.status === 'succeeded',
    );
    expect(final.history.map((h: { status: string }) => h.status)).toEqual([
      'queued',
      'sent',
      'delivered',
      'succeeded',
    ]);
  });
});
