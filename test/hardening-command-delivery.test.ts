import { once } from 'node:events';
import { type Socket, connect as tcpConnect } from 'node:net';
import mqttPacket, { type Packet } from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';

/**
 * A device speaking MQTT 3.1.1 byte by byte: it acknowledges when and what the test says, which
 * no well-behaved client library does.
 */
class RawDevice {
  readonly packets: Packet[] = [];
  readonly #socket: Socket;
  readonly #waiters: Array<() => void> = [];

  private constructor(socket: Socket) {
    this.#socket = socket;
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on('packet', (p) => {
      this.packets.push(p);
      for (const w of this.#waiters.splice(0)) w();
    });
    socket.on('data', (b) => parser.parse(b));
  }

  static async connect(port: number, id: string, secret: string, clean = true): Promise<RawDevice> {
    const socket = tcpConnect(port, '127.0.0.1');
    await once(socket, 'connect');
    const dev = new RawDevice(socket);
    dev.send({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clean,
      clientId: id,
      keepalive: 60,
      username: id,
      password: Buffer.from(secret),
    });
    const connack = await dev.next('connack');
    if ((connack as { returnCode: number }).returnCode !== 0) throw new Error('refused');
    return dev;
  }

  send(p: Packet | Record<string, unknown>): void {
    this.#socket.write(mqttPacket.generate(p as Packet));
  }

  /** The first packet of this kind not yet taken, waiting for it if need be. */
  async next(cmd: string, taken = new Set<Packet>()): Promise<Packet> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const p = this.packets.find((x) => x.cmd === cmd && !taken.has(x));
      if (p) {
        this.packets.splice(this.packets.indexOf(p), 1);
        return p;
      }
      if (Date.now() > deadline) throw new Error(`no ${cmd} within 5 s`);
      await new Promise<void>((r) => {
        this.#waiters.push(r);
        setTimeout(r, 100);
      });
    }
  }

  async subscribe(subscriptions: Array<{ topic: string; qos: 0 | 1 }>): Promise<number[]> {
    this.send({ cmd: 'subscribe', messageId: 1, subscriptions });
    return ((await this.next('suback')) as { granted: number[] }).granted;
  }

  /** Resolves once the broker has handled everything sent before (it answers in order). */
  async sync(): Promise<void> {
    this.send({ cmd: 'pingreq' });
    await this.next('pingresp');
  }

  get closed(): boolean {
    return this.#socket.destroyed || this.#socket.readableEnded;
  }

  close(): void {
    this.#socket.destroy();
  }
}

type Publish = { topic: string; qos: number; messageId?: number; payload: Buffer };

/** Issue 8, row 18 and "what must hold" 7: delivery is matched by packet identity, not order. */
describe('command delivery matched by packet id', () => {
  let gw: TestGateway;
  const raws: RawDevice[] = [];

  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(async () => {
    for (const r of raws) r.close();
    await gw?.stop();
  });

  const raw = async (id: string, secret: string, clean = true) => {
    const r = await RawDevice.connect(gw.gateway.mqttPort, id, secret, clean);
    raws.push(r);
    return r;
  };
  const submit = async (deviceId: string, name = 'readNow', params: object = {}) => {
    const res = await gw.api('POST', `/api/devices/${deviceId}/commands`, { name, params });
    expect(res.status).toBe(201);
    return res.body.id as string;
  };
  const status = async (commandId: string) => (await gw.api('GET', `/api/commands/${commandId}`)).body.status;
  const commandPublish = async (r: RawDevice, commandId: string) => {
    const p = (await r.next('publish')) as Publish;
    expect(p.topic).toMatch(new RegExp(`/commands/${commandId}$`));
    return p;
  };
  const meter = (id: string) => gw.register({ id, model: 'vinasmart-em310', firmware: '1.0' });

  it('two commands acknowledged out of order: each PUBACK marks its own command', async () => {
    const dev = await meter('em-ack-order');
    const r = await raw(dev.id, dev.secret);
    expect(await r.subscribe([{ topic: `devices/${dev.id}/commands/+`, qos: 1 }])).toEqual([1]);
    const c1 = await submit(dev.id);
    const p1 = await commandPublish(r, c1);
    const c2 = await submit(dev.id);
    const p2 = await commandPublish(r, c2);
    r.send({ cmd: 'puback', messageId: p2.messageId });
    await vi.waitFor(async () => expect(await status(c2)).toBe('delivered'));
    expect(await status(c1)).toBe('sent');
    r.send({ cmd: 'puback', messageId: p1.messageId });
    await vi.waitFor(async () => expect(await status(c1)).toBe('delivered'));
  });

  it('a duplicate PUBACK, or one for an id never sent, marks no other command delivered', async () => {
    const dev = await meter('em-ack-dup');
    const r = await raw(dev.id, dev.secret);
    await r.subscribe([{ topic: `devices/${dev.id}/commands/+`, qos: 1 }]);
    const c1 = await submit(dev.id);
    const p1 = await commandPublish(r, c1);
    const c2 = await submit(dev.id);
    const p2 = await commandPublish(r, c2);
    r.send({ cmd: 'puback', messageId: p1.messageId });
    r.send({ cmd: 'puback', messageId: p1.messageId });
    const stray = [1, 2, 3].find((i) => i !== p1.messageId && i !== p2.messageId);
    r.send({ cmd: 'puback', messageId: stray });
    await r.sync();
    expect(await status(c1)).toBe('delivered');
    expect(await status(c2)).toBe('sent');
  });

  it('on a persistent session, a flood of PUBACKs for ids never sent marks nothing; the real one still does', async () => {
    // PUBACKs that match nothing awaited are kept until Aedes names their packet (a session
    // resumed from another node's store, device-link.ts): a bounded handful, never a command's.
    const dev = await meter('em-ack-flood');
    const r = await raw(dev.id, dev.secret, false);
    await r.subscribe([{ topic: `devices/${dev.id}/commands/+`, qos: 1 }]);
    const c1 = await submit(dev.id);
    const p1 = await commandPublish(r, c1);
    for (let id = 1; id <= 5000; id++) if (id !== p1.messageId) r.send({ cmd: 'puback', messageId: id });
    await r.sync();
    expect(await status(c1)).toBe('sent');
    r.send({ cmd: 'puback', messageId: p1.messageId });
    await r.sync();
    await expect.poll(() => status(c1)).toBe('delivered');
    expect(r.closed).toBe(false);
  });

  it('subscribed to both commands/+ and commands/#: each command arrives once and is delivered', async () => {
    const dev = await meter('em-dup-subs');
    const client = await gw.connect(dev.id, dev.secret);
    const got: Array<{ id: string; qos: number }> = [];
    client.on('message', (topic, _payload, packet) => got.push({ id: topic.split('/')[3], qos: packet.qos }));
    await client.subscribeAsync(`devices/${dev.id}/commands/+`, { qos: 0 });
    await client.subscribeAsync(`devices/${dev.id}/commands/#`, { qos: 1 });
    const c1 = await submit(dev.id);
    const c2 = await submit(dev.id);
    await vi.waitFor(async () => {
      expect(await status(c1)).toBe('delivered');
      expect(await status(c2)).toBe('delivered');
    });
    // Overlapping subscriptions: one message at the highest QoS granted [MQTT-3.3.5-1].
    expect(got).toEqual([
      { id: c1, qos: 1 },
      { id: c2, qos: 1 },
    ]);
    await client.endAsync();
  });

  it('subscribed at QoS 0: commands go at QoS 0, stay sent, and the reply settles them', async () => {
    const dev = await meter('em-qos0');
    const r = await raw(dev.id, dev.secret);
    expect(await r.subscribe([{ topic: `devices/${dev.id}/commands/#`, qos: 0 }])).toEqual([0]);
    const c1 = await submit(dev.id);
    const p1 = await commandPublish(r, c1);
    expect(p1.qos).toBe(0); // [MQTT-3.8.4-6]: the lower of the published and the granted QoS
    const c2 = await submit(dev.id);
    await commandPublish(r, c2);
    await r.sync();
    const one = (await gw.api('GET', `/api/commands/${c1}`)).body;
    expect(one.status).toBe('sent');
    expect(one.history.at(-1).detail).toMatch(/QoS 0/);
    r.send({
      cmd: 'publish',
      topic: `devices/${dev.id}/commands/${c2}/reply`,
      qos: 1,
      messageId: 9,
      payload: JSON.stringify({ ok: true, result: { energy_kwh: 1 } }),
    });
    await vi.waitFor(async () => expect(await status(c2)).toBe('succeeded'));
    expect(await status(c1)).toBe('sent');
  });

  it('a takeover: the new connection acks only its own packets; the old one leaves no trace', async () => {
    const dev = await meter('em-takeover');
    const a = await raw(dev.id, dev.secret);
    await a.subscribe([{ topic: `devices/${dev.id}/commands/+`, qos: 1 }]);
    const c1 = await submit(dev.id);
    const p1 = await commandPublish(a, c1);
    const b = await raw(dev.id, dev.secret); // same id: the broker closes A [MQTT-3.1.4-2]
    await vi.waitFor(() => expect(a.closed).toBe(true));
    await b.subscribe([{ topic: `devices/${dev.id}/commands/+`, qos: 1 }]);
    const c2 = await submit(dev.id);
    const p2 = await commandPublish(b, c2);
    if (p1.messageId !== p2.messageId) {
      // B acknowledges the id A was given: it names nothing B was sent.
      b.send({ cmd: 'puback', messageId: p1.messageId });
      await b.sync();
      expect(await status(c2)).toBe('sent');
    }
    expect(await status(c1)).toBe('sent');
    b.send({ cmd: 'puback', messageId: p2.messageId });
    await vi.waitFor(async () => expect(await status(c2)).toBe('delivered'));
    expect((await gw.api('GET', `/api/devices/${dev.id}`)).body.status).toBe('online');
    const c3 = await submit(dev.id);
    await commandPublish(b, c3);
  });

  it("a replaced connection's late disconnect leaves the live connection's commands alone", async () => {
    const dev = await meter('em-late-disconnect');
    const broker = gw.gateway.ctx.broker;
    const ready: unknown[] = [];
    const onReady = (client: { id: string }) => client.id === dev.id && ready.push(client);
    broker.on('clientReady', onReady);
    try {
      const a = await raw(dev.id, dev.secret);
      const b = await raw(dev.id, dev.secret);
      await vi.waitFor(() => expect(a.closed).toBe(true));
      await b.subscribe([{ topic: `devices/${dev.id}/commands/+`, qos: 1 }]);
      const c1 = await submit(dev.id);
      const p1 = await commandPublish(b, c1);
      // What Aedes does when A's close was under way as B registered: A's clientDisconnect
      // comes after B is live (aedes.js unregisterClient, reached from Client.close's finish).
      broker.emit('clientDisconnect', ready[0] as never);
      b.send({ cmd: 'puback', messageId: p1.messageId });
      await vi.waitFor(async () => expect(await status(c1)).toBe('delivered'));
      const c2 = await submit(dev.id);
      await commandPublish(b, c2);
      expect((await gw.api('GET', `/api/devices/${dev.id}`)).body.status).toBe('online');
    } finally {
      broker.off('clientReady', onReady);
    }
  });

  it('a persistent session resumed without SUBSCRIBE still gets its queued commands', async () => {
    const dev = await meter('em-resume');
    const first = await gw.connect(dev.id, dev.secret, { clean: false });
    await first.subscribeAsync(`devices/${dev.id}/commands/+`, { qos: 1 });
    await first.endAsync();
    await vi.waitFor(async () =>
      expect((await gw.api('GET', `/api/devices/${dev.id}`)).body.status).toBe('offline'),
    );
    const c1 = await submit(dev.id);
    expect(await status(c1)).toBe('queued');
    const again = await gw.connect(dev.id, dev.secret, { clean: false });
    await vi.waitFor(async () => expect(await status(c1)).toBe('delivered'));
    await again.endAsync();
  });

  it('a persistent session: a command re-sent on reconnect is matched by its id, not the newest', async () => {
    const dev = await meter('em-resend');
    const a = await raw(dev.id, dev.secret, false);
    await a.subscribe([{ topic: `devices/${dev.id}/commands/+`, qos: 1 }]);
    const c1 = await submit(dev.id);
    const p1 = await commandPublish(a, c1);
    a.close();
    await vi.waitFor(async () =>
      expect((await gw.api('GET', `/api/devices/${dev.id}`)).body.status).toBe('offline'),
    );
    const c2 = await submit(dev.id);
    const b = await raw(dev.id, dev.secret, false);
    // The broker re-sends C1 with its id [MQTT-4.4.0-1]; C2 follows, as the session is resumed.
    const resent = (await b.next('publish')) as Publish;
    expect(resent.messageId).toBe(p1.messageId);
    const p2 = await commandPublish(b, c2);
    b.send({ cmd: 'puback', messageId: resent.messageId });
    await vi.waitFor(async () => expect(await status(c1)).toBe('delivered'));
    expect(await status(c2)).toBe('sent');
    b.send({ cmd: 'puback', messageId: p2.messageId });
    await vi.waitFor(async () => expect(await status(c2)).toBe('delivered'));
  });
});
