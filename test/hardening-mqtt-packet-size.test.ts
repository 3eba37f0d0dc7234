import { afterEach, describe, expect, it, vi } from 'vitest';
import { counterValue } from '../gateway/metrics.ts';
import { connectPacket, publishOfSize, publishPacket, remainingLength } from '../simulators/mqtt-bytes.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { type RawConnection, rawConnection, stream } from './helpers/raw-mqtt.ts';

/** Long enough for a loaded CI machine; a wait that ends early costs nothing. */
const SETTLE = { timeout: 10_000, interval: 50 };

const MiB = 1024 ** 2;
const CONNACK_OK = Buffer.from([0x20, 0x02, 0x00, 0x00]);
const PUBACK = (id: number) => Buffer.from([0x40, 0x02, id >> 8, id & 0xff]);

/** Issue 8, row 4: packet sizes are bounded on the byte stream, before Aedes buffers anything. */
describe('MQTT packet size limits on the byte stream', () => {
  let gw: TestGateway;
  afterEach(async () => gw?.stop());

  const start = () => startTestGateway({ config: { MQTT_CONNECT_TIMEOUT_MS: 1000 } });

  async function connected(): Promise<{ conn: RawConnection; id: string }> {
    const { id, secret } = await gw.register({ model: 'senvn-aqm900', firmware: '1.0' });
    const conn = await rawConnection(gw.gateway.mqttPort);
    conn.socket.write(connectPacket({ clientId: id, username: id, password: secret }));
    await vi.waitFor(() => expect(conn.received().subarray(0, 4)).toEqual(CONNACK_OK), SETTLE);
    return { conn, id };
  }

  it('closes four CONNECTs declaring 250 MiB each without the process growing (row 4)', async () => {
    gw = await start();
    const before = process.memoryUsage().rss;
    const attackers = await Promise.all(Array.from({ length: 4 }, () => rawConnection(gw.gateway.mqttPort)));
    // A CONNECT's fixed header declaring 250 MiB, then 48 MiB of it (each attacker), as fast as TCP takes it.
    const head = Buffer.concat([Buffer.from([0x10]), remainingLength(250 * MiB)]);
    await Promise.all(attackers.map((a) => stream(a, head, 48 * MiB)));
    const grown = (process.memoryUsage().rss - before) / MiB;
    expect(grown, `RSS grew by ${grown.toFixed(0)} MiB`).toBeLessThan(64);
    await vi.waitFor(
      () => expect(attackers.map((a) => a.closed())).toEqual([true, true, true, true]),
      SETTLE,
    );
    expect(await counterValue(gw.gateway.ctx.metrics.mqttRefused)).toBe(4);
  });

  it('closes a connection whose packet after CONNACK is one byte over 256 KiB, and acknowledges one of exactly 256 KiB', async () => {
    gw = await start();
    const { conn, id } = await connected();
    conn.socket.write(publishOfSize(`devices/${id}/telemetry`, 256 * 1024, 7));
    await vi.waitFor(() => expect(conn.received().subarray(4, 8)).toEqual(PUBACK(7)), SETTLE);
    conn.socket.write(publishOfSize(`devices/${id}/telemetry`, 256 * 1024 + 1, 8));
    await vi.waitFor(() => expect(conn.closed()).toBe(true), SETTLE);
    expect(conn.received().length).toBe(8); // no PUBACK for the oversized one
  });

  it('stores a 200 KiB batch of readings published with mqtt.js', async () => {
    gw = await start();
    const { id, secret } = await gw.register({ model: 'senvn-aqm900', firmware: '1.0' });
    const client = await gw.connect(id, secret);
    const example = gw.gateway.ctx.specs.get('senvn-aqm900')!.firmware['1.x'].example;
    // 1,000 readings (the batch issue 8 says must work, within MAX_READINGS_PER_PAYLOAD), each
    // padded with a key the layout does not read so that the payload is about 200 KiB.
    const pad = 'x'.repeat(Math.ceil((200 * 1024) / 1000) - JSON.stringify(example).length - 8);
    const batch = Array.from({ length: 1000 }, () => ({ ...example, pad }));
    const payload = JSON.stringify(batch);
    expect(payload.length).toBeGreaterThan(190 * 1024);
    await client.publishAsync(`devices/${id}/telemetry`, payload, { qos: 1 });
    const device = await vi.waitFor(async () => {
      const d = (await gw.api('GET', `/api/devices/${id}`)).body;
      expect(d.lastReading).not.toBeNull();
      return d;
    }, SETTLE);
    expect(device.lastReading).toHaveProperty('pm25_ugm3');
    expect(client.connected).toBe(true);
    await client.endAsync();
  });

  it('closes a connection that sends nothing, or dribbles its CONNECT, after the connect timeout', async () => {
    gw = await start();
    const silent = await rawConnection(gw.gateway.mqttPort);
    const dribbler = await rawConnection(gw.gateway.mqttPort);
    const bytes = connectPacket({ clientId: 'slow', username: 'slow', password: 'x' });
    const t0 = performance.now();
    // One byte every 100 ms: the CONNECT would be complete only after about 3 s.
    for (let i = 0; i < bytes.length - 1 && !dribbler.closed(); i++) {
      dribbler.socket.write(bytes.subarray(i, i + 1));
      await new Promise((r) => setTimeout(r, 100)); // the attack is the pace, not a wait for a result
    }
    await vi.waitFor(() => expect([silent.closed(), dribbler.closed()]).toEqual([true, true]), SETTLE);
    expect(performance.now() - t0).toBeLessThan(10_000);
    const metrics = await gw.gateway.ctx.metrics.registry.metrics();
    expect(metrics).toMatch(/citygate_mqtt_packets_refused_total\{reason="connect_timeout"\} 2/);
  });

  it('closes a connection that pipelines more than MQTT_MAX_CONNECT_BYTES before its CONNACK', async () => {
    gw = await start();
    const { id, secret } = await gw.register({ model: 'senvn-aqm900', firmware: '1.0' });
    const conn = await rawConnection(gw.gateway.mqttPort);
    conn.socket.write(
      Buffer.concat([
        connectPacket({ clientId: id, username: id, password: secret }),
        publishPacket(`devices/${id}/telemetry`, Buffer.alloc(16 * 1024, 0x20), 1, 1),
      ]),
    );
    await vi.waitFor(() => expect(conn.closed()).toBe(true), SETTLE);
  });

  it('closes a connection whose first packet is not a CONNECT, or whose remaining length runs past four bytes', async () => {
    gw = await start();
    const publishFirst = await rawConnection(gw.gateway.mqttPort);
    publishFirst.socket.write(publishPacket('devices/x/telemetry', Buffer.from('{}'), 0));
    const badLength = await rawConnection(gw.gateway.mqttPort);
    badLength.socket.write(Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x01]));
    await vi.waitFor(() => expect([publishFirst.closed(), badLength.closed()]).toEqual([true, true]), SETTLE);
    const metrics = await gw.gateway.ctx.metrics.registry.metrics();
    expect(metrics).toMatch(/citygate_mqtt_packets_refused_total\{reason="first_not_connect"\} 1/);
    expect(metrics).toMatch(/citygate_mqtt_packets_refused_total\{reason="malformed_length"\} 1/);
  });
});
