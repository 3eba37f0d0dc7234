import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';

/** Issue 8, rows 2, 3 and 11: what a device answers to a command can neither kill nor poison. */
describe('hostile command replies', () => {
  let gw: TestGateway;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => {})));
    await gw?.stop();
  });

  /** A device listening on its command topic, and one command sent to it. */
  async function commandInFlight(id: string, opts: { clean?: boolean } = {}) {
    const dev = await gw.register({ id, model: 'lumina-slc300', firmware: '1.0' });
    const client = await gw.connect(dev.id, dev.secret, { clean: opts.clean ?? true });
    clients.push(client);
    const received: string[] = [];
    client.on('message', (topic) => received.push(topic.split('/')[3]));
    await client.subscribeAsync(`devices/${dev.id}/commands/+`, { qos: 1 });
    const sent = await gw.api('POST', `/api/devices/${dev.id}/commands`, {
      name: 'switchLamp',
      params: { on: true },
    });
    expect(sent.status).toBe(201);
    await vi.waitFor(() => expect(received).toContain(sent.body.id));
    return { dev, client, commandId: sent.body.id as string };
  }

  const command = async (id: string) => (await gw.api('GET', `/api/commands/${id}`)).body;
  const replyTopic = (deviceId: string, commandId: string) =>
    `devices/${deviceId}/commands/${commandId}/reply`;

  it.each([
    ['null', 'null', /^malformed reply: /],
    ['an error object with toString', '{"ok":false,"error":{"toString":1}}', /^malformed reply: error/],
    ['ok missing', '{"result":{}}', /^malformed reply: /],
    ['not JSON', '{"ok":tru', /^malformed reply: not JSON/],
    ['nested 5,000 levels', `{"ok":true,"result":${'['.repeat(5000)}${']'.repeat(5000)}}`, /deeper than/],
  ])(
    'a reply that is %s ends the command failed, malformed, and the gateway lives on',
    async (label, body, error) => {
      const { dev, client, commandId } = await commandInFlight(
        `sl-poison-${label.replace(/[^a-z0-9]+/gi, '-')}`,
      );
      // Resolves only once the gateway sent the PUBACK: the reply was handled, not thrown on.
      await client.publishAsync(replyTopic(dev.id, commandId), body, { qos: 1 });
      await vi.waitFor(async () => expect((await command(commandId)).status).toBe('failed'));
      const c = await command(commandId);
      expect(c.error).toMatch(error);
      expect(c.history.at(-1).detail).toContain(body.slice(0, 40));
      expect((await gw.api('GET', '/healthz')).status).toBe(200);
    },
  );

  it('an error object with a message is rendered, not refused', async () => {
    const { dev, client, commandId } = await commandInFlight('sl-error-object');
    await client.publishAsync(
      replyTopic(dev.id, commandId),
      JSON.stringify({ ok: false, error: { code: 'E42', message: 'driver overheated' } }),
      { qos: 1 },
    );
    await vi.waitFor(async () => expect((await command(commandId)).error).toBe('E42: driver overheated'));
  });

  it('row 3: a persistent session re-sending a poison reply does not crash every reconnect', async () => {
    const { dev, client, commandId } = await commandInFlight('sl-poison-persistent', { clean: false });
    await client.publishAsync(replyTopic(dev.id, commandId), 'null', { qos: 1 });
    await vi.waitFor(async () => expect((await command(commandId)).status).toBe('failed'));
    await client.endAsync();
    // The same session comes back and says the same thing again: still acknowledged, still alive.
    const again = await gw.connect(dev.id, dev.secret, { clean: false });
    clients.push(again);
    await again.publishAsync(replyTopic(dev.id, commandId), 'null', { qos: 1 });
    await vi.waitFor(async () =>
      expect((await command(commandId)).history.at(-1).detail).toMatch(/^late reply: null/),
    );
    expect((await command(commandId)).status).toBe('failed');
    expect((await gw.api('GET', '/healthz')).status).toBe(200);
  });

  it('row 11: a non-object result is refused on the way in, and the history stays readable', async () => {
    const { dev, client, commandId } = await commandInFlight('sl-result-string');
    await client.publishAsync(replyTopic(dev.id, commandId), '{"ok":true,"result":"x"}', { qos: 1 });
    await vi.waitFor(async () => expect((await command(commandId)).status).toBe('failed'));
    const res = await gw.api('GET', `/api/commands/${commandId}`);
    expect(res.status).toBe(200);
    expect(res.body.error).toMatch(/^malformed reply: result: must be a JSON object/);
    expect((await gw.api('GET', `/api/devices/${dev.id}/commands`)).status).toBe(200);
    const metrics = await (await fetch(`${gw.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/citygate_command_replies_total\{outcome="malformed"\} [1-9]/);
  });

  it('row 11: a bad result stored by an older version is still readable over HTTP', async () => {
    const { dev, client, commandId } = await commandInFlight('sl-result-legacy');
    await client.publishAsync(replyTopic(dev.id, commandId), '{"ok":true,"result":{"on":true}}', { qos: 1 });
    await vi.waitFor(async () => expect((await command(commandId)).status).toBe('succeeded'));
    // What main stored for `{"ok":true,"result":"x"}`, and text that is not JSON at all.
    gw.gateway.ctx.db.prepare('UPDATE commands SET result = ? WHERE id = ?').run('"x"', commandId);
    const one = await gw.api('GET', `/api/commands/${commandId}`);
    expect(one.status).toBe(200);
    expect(one.body.result).toEqual({ unreadable_stored_value: '"x"' });
    gw.gateway.ctx.db.prepare('UPDATE commands SET result = ? WHERE id = ?').run('{broken', commandId);
    expect((await gw.api('GET', `/api/devices/${dev.id}/commands`)).status).toBe(200);
  });
});
