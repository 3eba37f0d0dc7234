import { connect as tcpConnect } from 'node:net';
import { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_SCRYPT_COST } from '../device-registry/secrets.ts';
import { connectPacket } from '../simulators/mqtt-bytes.ts';
import { startConnectFlood } from './helpers/connect-flood.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { rawConnect } from './helpers/raw-mqtt.ts';

/** An mqtt.js device connecting from another loopback address than the flood's. */
function connectFrom(gw: TestGateway, localAddress: string, id: string, secret: string): Promise<MqttClient> {
  const client = new MqttClient(
    () => tcpConnect({ port: gw.gateway.mqttPort, host: '127.0.0.1', localAddress }),
    {
      clientId: id,
      username: id,
      password: secret,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      protocolVersion: 4,
    },
  );
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
  });
}

async function metric(gw: TestGateway, name: string, reason: string): Promise<number> {
  const text = await (await fetch(`${gw.httpUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{reason="${reason}"}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('a flood of wrong-secret CONNECTs (issue 8, row 8)', () => {
  let gw: TestGateway | undefined;
  afterEach(async () => gw?.stop());

  it('lets the real device in from another address within a second, and bans the flooding address', async () => {
    // The production scrypt cost (for hashes from before issue 12; new secrets are SHA-256).
    const g = await startTestGateway({ secretCost: DEFAULT_SCRYPT_COST });
    gw = g;
    const target = await g.register({ model: 'lumina-slc300', firmware: '1.0.0' });
    const other = await g.register({ model: 'lumina-slc300', firmware: '1.0.0' });
    const port = g.gateway.mqttPort;
    const wrong = connectPacket({ clientId: target.id, username: target.id, password: 'guess' });

    // 100 concurrent attackers on 127.0.0.1 for the target's id, each trying again 100 ms after
    // each refusal, from a worker thread (their socket work is not the gateway's event loop's).
    const flood = startConnectFlood({
      port,
      packet: wrong,
      localAddress: '127.0.0.1',
      concurrency: 100,
      rounds: 30,
      pauseMs: 100,
    });
    const times: Record<string, number> = {};
    try {
      // Every attacker has had its first answer; they go on for the whole measurement.
      await expect.poll(() => flood.total, { timeout: 10_000, interval: 5 }).toBeGreaterThanOrEqual(100);
      // Neither device has connected since the start: their secrets are not yet remembered.
      for (const [name, dev] of [
        ['target', target],
        ['other', other],
      ] as const) {
        const t0 = performance.now();
        const client = await connectFrom(g, '127.0.0.2', dev.id, dev.secret);
        times[name] = Math.round(performance.now() - t0);
        await client.endAsync();
      }
      console.log(
        `connect during the flood: ${JSON.stringify(times)} ms; flood answers ${JSON.stringify(flood.answers)}`,
      );
      await expect.poll(() => metric(g, 'citygate_connections_refused_total', 'banned')).toBeGreaterThan(0);
    } finally {
      await flood.stop();
    }
    expect(flood.answers['0']).toBeUndefined();
    expect(flood.answers.timeout).toBeUndefined();
    expect(times.target).toBeLessThan(1000);
    expect(times.other).toBeLessThan(1000);

    // Banned, and no device ever logged in from there: dropped on accept, before any MQTT work.
    const banned = await rawConnect(port, wrong, { localAddress: '127.0.0.1' });
    expect(banned.returnCode).toBeNull();
    expect(banned.ms).toBeLessThan(100);
    expect(await metric(g, 'citygate_auth_throttled_total', 'banned')).toBeGreaterThan(0);
    // The ban is the address's, not the device's: the real device still connects from elsewhere.
    const again = await connectFrom(g, '127.0.0.2', target.id, target.secret);
    await again.endAsync();
  }, 40_000);
});
