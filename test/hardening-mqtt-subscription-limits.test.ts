import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { connectPacket, PACKET, readPackets, subscribePacket } from '../simulators/mqtt-bytes.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { rawConnection } from './helpers/raw-mqtt.ts';

/** Long enough for a loaded CI machine; a wait that ends early costs nothing. */
const SETTLE = { timeout: 10_000, interval: 50 };

const MiB = 1024 ** 2;

// What the process keeps after a full collection: the 120 MB of filters are garbage unless stored.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
function retained(): number {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}
const FAILURE = 0x80;

/** Issue 8, row 10: subscriptions per client and topic length are bounded. */
describe('MQTT subscription and topic length limits', () => {
  let gw: TestGateway;
  afterEach(async () => gw?.stop());

  it('refuses 2,000 subscriptions of 60 KB under its own command topic, and its one real subscription still works (row 10)', async () => {
    gw = await startTestGateway();
    const { id, secret } = await gw.register({ model: 'senvn-aqm900', firmware: '1.0' });
    const before = retained();
    // A persistent session, so nothing is let go when the connection closes.
    const conn = await rawConnection(gw.gateway.mqttPort);
    conn.socket.write(connectPacket({ clientId: id, username: id, password: secret, clean: false }));
    await vi.waitFor(() => expect(conn.received().subarray(0, 2)).toEqual(Buffer.from([0x20, 0x02])), SETTLE);
    const own = `devices/${id}/commands/`;
    // Each SUBSCRIBE holds the real filter and three 60 KB ones: 667 packets, 2,001 junk filters.
    const packets = 667;
    for (let p = 1; p <= packets; p++) {
      const junk = [0, 1, 2].map((k) => own + String(p * 3 + k).padEnd(60_000, 'x'));
      const ok = conn.socket.write(subscribePacket([`${own}+`, ...junk], p));
      if (!ok) await new Promise((r) => conn.socket.once('drain', r));
      if (conn.closed()) break;
    }
    const subacks = await vi.waitFor(
      () => {
        const acks = readPackets(conn.received()).filter((q) => q.type === PACKET.suback);
        expect(acks.length).toBe(packets);
        return acks;
      },
      { timeout: 45_000, interval: 200 },
    );
    const grown = (retained() - before) / MiB;
    expect(grown, `retained memory grew by ${grown.toFixed(0)} MiB`).toBeLessThan(24);
    const codes = subacks.map((a) => [...a.body.subarray(2)]);
    expect(codes.filter((c) => c[0] === 1).length).toBe(packets);
    expect(
      codes.flatMap((c) => c.slice(1)).filter((code) => code !== FAILURE).length,
      '60 KB filters granted',
    ).toBe(0);

    const command = (
      await gw.api('POST', `/api/devices/${id}/commands`, {
        name: 'setReportInterval',
        params: { seconds: 120 },
      })
    ).body;
    await vi.waitFor(() => {
      const publishes = readPackets(conn.received()).filter((q) => q.type === PACKET.publish);
      expect(publishes.map((q) => q.body.toString('latin1'))).toContainEqual(
        expect.stringContaining(`${own}${command.id}`),
      );
    }, SETTLE);
    expect(conn.closed()).toBe(false);
    conn.socket.destroy();
  }, 60_000);

  it('grants 16 subscriptions per connection, and gives slots back on unsubscribe and reconnect', async () => {
    gw = await startTestGateway();
    const { id, secret } = await gw.register({ model: 'senvn-aqm900', firmware: '1.0' });
    const filters = Array.from({ length: 17 }, (_, i) => `devices/${id}/commands/c${i}`);
    // The SUBACK return codes; mqtt.js rejects a SUBACK holding a failure, the packet is on the error.
    const suback = (client: MqttClient, topics: string | string[]) =>
      client.subscribeAsync(topics, { qos: 1 }).then(
        (grants) => grants.map((g) => g.qos),
        (err: { packet: { granted: number[] } }) => err.packet.granted,
      );
    let client = await gw.connect(id, secret);
    expect(await suback(client, filters)).toEqual([...Array(16).fill(1), FAILURE]);
    await client.unsubscribeAsync(filters[0]);
    expect(await suback(client, filters[16])).toEqual([1]);
    expect(await suback(client, filters[0])).toEqual([FAILURE]);
    // Subscribing again to a filter it holds replaces it and takes no new slot [MQTT-3.8.4-3].
    expect(await suback(client, filters[1])).toEqual([1]);
    await client.endAsync();
    client = await gw.connect(id, secret);
    expect(await suback(client, filters.slice(0, 16))).toEqual(Array(16).fill(1));
    await client.endAsync();
    const metrics = await gw.gateway.ctx.metrics.registry.metrics();
    expect(metrics).toMatch(/citygate_mqtt_packets_refused_total\{reason="too_many_subscriptions"\} 2/);
  });

  it('refuses a PUBLISH whose topic is longer than 256 bytes like an ACL denial', async () => {
    gw = await startTestGateway();
    const { id, secret } = await gw.register({ model: 'senvn-aqm900', firmware: '1.0' });
    const client = await gw.connect(id, secret);
    let closed = false;
    client.once('close', () => {
      closed = true;
    });
    client.publish(`devices/${id}/commands/${'c'.repeat(300)}/reply`, '{"ok":true}', { qos: 1 });
    await vi.waitFor(() => expect(closed).toBe(true), SETTLE);
    const metrics = await gw.gateway.ctx.metrics.registry.metrics();
    expect(metrics).toMatch(/citygate_mqtt_packets_refused_total\{reason="topic_too_long"\} 1/);
    client.end(true);
  });
});
