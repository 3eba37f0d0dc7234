import { rmSync } from 'node:fs';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from './helpers/fake-clock.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';

interface Received {
  topic: string;
  commandId: string;
  body: { name: string; params: Record<string, unknown>; expiresAt: string };
}

/** A device that subscribes to its commands and records what arrives. */
async function commandListener(gw: TestGateway, id: string, secret: string) {
  const client = await gw.connect(id, secret);
  const received: Received[] = [];
  client.on('message', (topic, payload) => {
    received.push({ topic, commandId: topic.split('/')[3], body: JSON.parse(payload.toString()) });
  });
  await client.subscribeAsync(`devices/${id}/commands/+`, { qos: 1 });
  return { client, received };
}

async function until(cond: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const reply = (client: MqttClient, id: string, commandId: string, body: unknown) =>
  client.publishAsync(`devices/${id}/commands/${commandId}/reply`, JSON.stringify(body), { qos: 1 });

describe('command lifecycle', () => {
  let gw: TestGateway;
  let clock: FakeClock;
  let operator: string;
  let viewer: string;
  const send = (id: string, body: unknown, token = operator) =>
    gw.api('POST', `/api/devices/${id}/commands`, body, token);
  const status = async (commandId: string) =>
    (await gw.api('GET', `/api/commands/${commandId}`, undefined, viewer)).body;

  beforeAll(async () => {
    clock = new FakeClock();
    gw = await startTestGateway({ clock });
    operator = (await gw.api('POST', '/api/tokens', { name: 'engineer-lan', role: 'operator' })).body.token;
    viewer = (await gw.api('POST', '/api/tokens', { name: 'noc', role: 'viewer' })).body.token;
  });
  afterAll(async () => gw?.stop());

  it('online device: reaches the topic, PUBACK makes it delivered, the reply succeeded', async () => {
    const dev = await gw.register({ id: 'sl-cmd-1', model: 'lumina-slc300', firmware: '1.0' });
    const { client, received } = await commandListener(gw, dev.id, dev.secret);
    const res = await send(dev.id, { name: 'setDimming', params: { level: 40 } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'sent', requestedBy: 'engineer-lan', name: 'setDimming' });
    await until(() => received.length === 1);
    expect(received[0].topic).toBe(`devices/${dev.id}/commands/${res.body.id}`);
    expect(received[0].body).toMatchObject({ name: 'setDimming', params: { level: 40 } });
    await until(async () => (await status(res.body.id)).status === 'delivered');
    await reply(client, dev.id, res.body.id, { ok: true, result: { dim_percent: 40 } });
    await until(async () => (await status(res.body.id)).status === 'succeeded');
    const done = await status(res.body.id);
    expect(done.result).toEqual({ dim_percent: 40 });
    expect(done.history.map((h: { status: string }) => h.status)).toEqual([
      'queued',
      'sent',
      'delivered',
      'succeeded',
    ]);
    expect(done.history[0].actor).toBe('engineer-lan');
    const device = await gw.api('GET', `/api/devices/${dev.id}`);
    expect(device.body.desiredState).toEqual({ dim_percent: 40, version: 1 });
    await client.endAsync();
  });

  it('an error reply makes it failed with the device message', async () => {
    const dev = await gw.register({ id: 'sl-cmd-2', model: 'lumina-slc300', firmware: '1.0' });
    const { client, received } = await commandListener(gw, dev.id, dev.secret);
    const res = await send(dev.id, { name: 'switchLamp', params: { on: true } });
    await until(() => received.length === 1);
    await reply(client, dev.id, res.body.id, { ok: false, error: 'driver overheated' });
    await until(async () => (await status(res.body.id)).status === 'failed');
    expect((await status(res.body.id)).error).toBe('driver overheated');
    await client.endAsync();
  });

  it('offline device: queued, delivered in order on reconnect; an expired one is never sent', async () => {
    const dev = await gw.register({ id: 'em-cmd-3', model: 'vinasmart-em310', firmware: '1.0' });
    const stale = await send(dev.id, { name: 'readNow', params: {}, ttlSeconds: 5 });
    const first = await send(dev.id, { name: 'setRelay', params: { closed: true } });
    const second = await send(dev.id, { name: 'readNow', params: {} });
    expect([stale.body.status, first.body.status, second.body.status]).toEqual([
      'queued',
      'queued',
      'queued',
    ]);
    clock.advance(6000);
    expect((await status(stale.body.id)).status).toBe('expired');
    const { client, received } = await commandListener(gw, dev.id, dev.secret);
    await until(() => received.length === 2);
    await new Promise((r) => setTimeout(r, 100));
    expect(received.map((r) => r.commandId)).toEqual([first.body.id, second.body.id]);
    expect((await status(stale.body.id)).status).toBe('expired');
    await client.endAsync();
  });

  it('a device that never replies ends timed_out', async () => {
    const dev = await gw.register({ id: 'aq-cmd-4', model: 'airviet-aq5', firmware: '1.0' });
    const { client, received } = await commandListener(gw, dev.id, dev.secret);
    const res = await send(dev.id, {
      name: 'setReportInterval',
      params: { seconds: 30 },
      timeoutSeconds: 10,
    });
    await until(() => received.length === 1);
    clock.advance(9000);
    expect((await status(res.body.id)).status).not.toBe('timed_out');
    clock.advance(2000);
    const final = await status(res.body.id);
    expect(final.status).toBe('timed_out');
    expect(final.history.at(-1).detail).toMatch(/no reply within 10 s/);
    // A reply that comes too late is noted, the outcome stays.
    await reply(client, dev.id, res.body.id, { ok: true });
    await until(async () => (await status(res.body.id)).history.at(-1).detail?.startsWith('late reply'));
    expect((await status(res.body.id)).status).toBe('timed_out');
    await client.endAsync();
  });

  it('state commands coalesce: a newer setDimming replaces a queued older one', async () => {
    const dev = await gw.register({ id: 'sl-cmd-5', model: 'lumina-slc300', firmware: '2.0' });
    const a = await send(dev.id, { name: 'setDimming', params: { level: 30 } });
    const b = await send(dev.id, { name: 'setDimming', params: { level: 60 } });
    const aNow = await status(a.body.id);
    expect(aNow.status).toBe('cancelled');
    expect(aNow.history.at(-1).detail).toMatch(/superseded/);
    const device = await gw.api('GET', `/api/devices/${dev.id}`);
    expect(device.body.desiredState).toEqual({ dim_percent: 60, version: 2 });
    const { client, received } = await commandListener(gw, dev.id, dev.secret);
    await until(() => received.length === 1);
    await new Promise((r) => setTimeout(r, 100));
    expect(received.map((r) => r.commandId)).toEqual([b.body.id]);
    await client.endAsync();
  });

  it('action commands honour idempotency keys', async () => {
    const dev = await gw.register({ id: 'em-cmd-6', model: 'vinasmart-em310', firmware: '1.0' });
    const body = { name: 'setRelay', params: { closed: true }, idempotencyKey: 'ticket-4711' };
    const one = await send(dev.id, body);
    const two = await send(dev.id, body);
    expect(one.status).toBe(201);
    expect(two.status).toBe(200);
    expect(two.body.id).toBe(one.body.id);
    expect(
      (await gw.api('GET', `/api/devices/${dev.id}/commands`, undefined, viewer)).body.commands,
    ).toHaveLength(1);
  });

  it('guards refuse with a reason: relay opening needs confirm, a valve moves once per interval', async () => {
    const meter = await gw.register({ id: 'em-cmd-7', model: 'vinasmart-em310', firmware: '1.0' });
    const refused = await send(meter.id, { name: 'setRelay', params: { closed: false } });
    expect(refused).toMatchObject({ status: 400, body: { code: 'CMD_ERR_CONFIRM_REQUIRED' } });
    expect(refused.body.message).toMatch(/"confirm": true/);
    expect(
      (await send(meter.id, { name: 'setRelay', params: { closed: false }, confirm: true })).status,
    ).toBe(201);

    const station = await gw.register({ id: 'ws-cmd-7', model: 'aquanet-ws200', firmware: '1.0' });
    expect((await send(station.id, { name: 'setValve', params: { percent: 20 } })).status).toBe(201);
    const tooSoon = await send(station.id, { name: 'setValve', params: { percent: 80 } });
    expect(tooSoon).toMatchObject({ status: 429, body: { code: 'CMD_ERR_RATE_LIMITED' } });
    expect(tooSoon.body.message).toMatch(/at most once per \d+ s/);
    clock.advance(61_000);
    expect((await send(station.id, { name: 'setValve', params: { percent: 80 } })).status).toBe(201);
  });

  it('names what is wrong: unknown command, bad params', async () => {
    const dev = await gw.register({ id: 'sl-cmd-8', model: 'lumina-slc300', firmware: '1.0' });
    const unknown = await send(dev.id, { name: 'setValve', params: { percent: 3 } });
    expect(unknown).toMatchObject({ status: 400, body: { code: 'CMD_ERR_UNKNOWN_COMMAND' } });
    expect(unknown.body.message).toMatch(/setDimming, switchLamp/);
    const bad = await send(dev.id, { name: 'setDimming', params: { level: 140 } });
    expect(bad).toMatchObject({ status: 400, body: { code: 'CMD_ERR_PARAMS_INVALID' } });
    expect(bad.body.message).toMatch(/^params\.level: /);
    expect((await send('nope', { name: 'setDimming', params: { level: 1 } })).status).toBe(404);
  });

  it('a viewer cannot send commands (403); no token is 401', async () => {
    expect((await send('sl-cmd-8', { name: 'setDimming', params: { level: 1 } }, viewer)).status).toBe(403);
    expect((await send('sl-cmd-8', { name: 'setDimming', params: { level: 1 } }, '')).status).toBe(401);
  });

  it('cancels a queued command, and refuses to cancel a final one', async () => {
    const dev = await gw.register({ id: 'sl-cmd-9', model: 'lumina-slc300', firmware: '1.0' });
    const c = await send(dev.id, { name: 'switchLamp', params: { on: false } });
    const cancelled = await gw.api('POST', `/api/commands/${c.body.id}/cancel`, undefined, operator);
    expect(cancelled.body.status).toBe('cancelled');
    expect((await gw.api('POST', `/api/commands/${c.body.id}/cancel`, undefined, operator)).status).toBe(409);
  });

  it('brings a device that reconnects with another state back to the desired one', async () => {
    const dev = await gw.register({ id: 'sl-cmd-10', model: 'lumina-slc300', firmware: '1.0' });
    const first = await commandListener(gw, dev.id, dev.secret);
    const c = await send(dev.id, { name: 'setDimming', params: { level: 25 } });
    await until(() => first.received.length === 1);
    await reply(first.client, dev.id, c.body.id, { ok: true });
    await until(async () => (await status(c.body.id)).status === 'succeeded');
    await first.client.endAsync();
    // After a power cut the controller comes back at full brightness.
    const again = await commandListener(gw, dev.id, dev.secret);
    await again.client.publishAsync(
      `devices/${dev.id}/state`,
      JSON.stringify({ dim_percent: 100, lamp_on: true }),
      { qos: 1 },
    );
    await until(() => again.received.length === 1);
    expect(again.received[0].body).toMatchObject({ name: 'setDimming', params: { level: 25 } });
    const list = (await gw.api('GET', `/api/devices/${dev.id}/commands`, undefined, viewer)).body.commands;
    expect(list[0].requestedBy).toBe('reconciler');
    await again.client.endAsync();
  });
});

describe('commands across a restart', () => {
  it('leaves no command in a non-final state forever', async () => {
    const clock = new FakeClock();
    const gw1 = await startTestGateway({ clock });
    const dev = await gw1.register({ id: 'sl-restart', model: 'lumina-slc300', firmware: '1.0' });
    const { client, received } = await commandListener(gw1, dev.id, dev.secret);
    const inFlight = (
      await gw1.api('POST', `/api/devices/${dev.id}/commands`, {
        name: 'setDimming',
        params: { level: 10 },
        timeoutSeconds: 60,
      })
    ).body;
    await until(() => received.length === 1);
    const waiting = (await gw1.api('POST', '/api/devices/em-none/commands', { name: 'x' })).status;
    expect(waiting).toBe(404);
    client.end(true);
    await gw1.stop({ keepData: true });

    const gw2 = await startTestGateway({ clock, dataDir: gw1.dataDir });
    try {
      const before = (await gw2.api('GET', `/api/commands/${inFlight.id}`)).body;
      expect(['sent', 'delivered']).toContain(before.status);
      clock.advance(61_000);
      const after = (await gw2.api('GET', `/api/commands/${inFlight.id}`)).body;
      expect(after.status).toBe('timed_out');
      expect(after.history.at(-1).detail).toMatch(/restarted/);
    } finally {
      await gw2.stop();
      rmSync(gw1.dataDir, { recursive: true, force: true });
    }
  });
});
