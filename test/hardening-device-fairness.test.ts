import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { connectPacket, publishPacket } from '../simulators/mqtt-bytes.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { startPublishStorm } from './helpers/publish-storm.ts';

const reading = JSON.stringify({ on: true, dim: 50, p: 60, lux: 2, hrs: 10 });

/** QoS 1 publish-to-PUBACK times of `n` readings, one at a time, 40 a second (under its limit). */
async function roundTrips(client: MqttClient, topic: string, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await client.publishAsync(topic, reading, { qos: 1 });
    const ms = performance.now() - t0;
    out.push(ms);
    await new Promise((r) => setTimeout(r, Math.max(0, 25 - ms)));
  }
  return out;
}

const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.ceil(xs.length * 0.99) - 1]!;

async function metric(gw: TestGateway, name: string): Promise<number> {
  const text = await (await fetch(`${gw.httpUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('one device storming does not slow the others (issue 8, row 16)', () => {
  let gw: TestGateway | undefined;
  afterEach(async () => gw?.stop());

  it("keeps a normal device's QoS 1 p99 within twice its own while another publishes flat out", async () => {
    const g = await startTestGateway(); // the default DEVICE_RATE_PER_SEC and DEVICE_RATE_BURST
    gw = g;
    const normal = await g.register({ model: 'lumina-slc300', firmware: '1.0.0' });
    const storming = await g.register({ model: 'lumina-slc300', firmware: '1.0.0' });
    const client = await g.connect(normal.id, normal.secret);
    const topic = `devices/${normal.id}/telemetry`;
    await roundTrips(client, topic, 20); // warm-up

    const alone = await roundTrips(client, topic, 150);
    const storm = startPublishStorm({
      port: g.gateway.mqttPort,
      connect: connectPacket({ clientId: storming.id, username: storming.id, password: storming.secret }),
      publish: publishPacket(`devices/${storming.id}/telemetry`, Buffer.from(reading), 0),
    });
    let during: number[];
    try {
      await expect.poll(() => storm.sent, { timeout: 10_000 }).toBeGreaterThan(5000);
      during = await roundTrips(client, topic, 150);
    } finally {
      await storm.stop();
      await client.endAsync();
    }
    const base = p99(alone);
    const loaded = p99(during);
    const limited = await metric(g, 'citygate_device_rate_limited_total');
    console.log(
      `normal device QoS 1 p99: alone ${base.toFixed(1)} ms, during the storm ${loaded.toFixed(1)} ms; ` +
        `storm handed ${storm.sent} publishes to its socket, ${limited} held back by the rate limit`,
    );
    // Twice the baseline, with a 20 ms floor for a busy test machine's scheduling noise.
    expect(loaded).toBeLessThanOrEqual(Math.max(2 * base, base + 20));
    expect(limited).toBeGreaterThan(0);
  }, 60_000);
});
