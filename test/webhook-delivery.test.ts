import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyWebhook } from '../gateway/events/webhook-signature.ts';
import { alarmEvent } from './helpers/events.ts';
import { FakeClock } from './helpers/fake-clock.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { startReceiver } from './helpers/webhook-receiver.ts';

describe('webhooks: signed, retried with back-off, their deliveries visible', () => {
  let gw: TestGateway;
  let clock: FakeClock;
  const receivers: Array<{ close(): Promise<void> }> = [];
  const deliveries = async (hookId: string) =>
    (await gw.api('GET', `/api/webhooks/${hookId}/deliveries`)).body.deliveries;
  const metric = async (outcome: string) => {
    const text = await fetch(`${gw.httpUrl}/metrics`).then((r) => r.text());
    const line = text
      .split('\n')
      .find((l) => l.startsWith(`citygate_webhook_deliveries_total{outcome="${outcome}"}`));
    return line ? Number(line.split(' ')[1]) : 0;
  };
  const receiver = async (answer: Parameters<typeof startReceiver>[0]) => {
    const r = await startReceiver(answer);
    receivers.push(r);
    return r;
  };
  const register = async (body: Record<string, unknown>) => {
    const res = await gw.api('POST', '/api/webhooks', body);
    expect(res.status).toBe(201);
    return res.body as { id: string; secret: string };
  };

  beforeAll(async () => {
    clock = new FakeClock();
    gw = await startTestGateway({ clock, config: { WEBHOOK_MAX_ATTEMPTS: 3 } });
  });
  afterAll(async () => {
    await gw?.stop();
    for (const r of receivers) await r.close();
  });

  it('lets only an admin register, list and delete them; the secret is shown once', async () => {
    const operator = (await gw.api('POST', '/api/tokens', { name: 'shift-lead', role: 'operator' })).body
      .token;
    const refused = await gw.api('POST', '/api/webhooks', { url: 'http://127.0.0.1:9/x' }, operator);
    expect(refused.status).toBe(403);
    const bad = await gw.api('POST', '/api/webhooks', { url: 'ftp://example.org/x' });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/^body\.url/);
    const badType = await gw.api('POST', '/api/webhooks', {
      url: 'http://127.0.0.1:9/x',
      types: ['summary'],
    });
    expect(badType.body.message).toMatch(/^body\.types\.0/);

    const made = await gw.api('POST', '/api/webhooks', {
      url: 'http://127.0.0.1:9/x',
      description: 'NOC pager',
    });
    expect(made.body).toMatchObject({ types: ['alarm'], severities: null, description: 'NOC pager' });
    expect(made.body.secret).toMatch(/^whsec_/);
    const listed = await gw.api('GET', '/api/webhooks');
    const mine = listed.body.webhooks.find((w: { id: string }) => w.id === made.body.id);
    expect(mine).toMatchObject({ url: 'http://127.0.0.1:9/x', createdBy: 'admin' });
    expect(mine).not.toHaveProperty('secret');
    expect((await gw.api('DELETE', `/api/webhooks/${made.body.id}`)).status).toBe(204);
    const gone = await gw.api('GET', `/api/webhooks/${made.body.id}/deliveries`);
    expect(gone).toMatchObject({ status: 404, body: { code: 'EVT_ERR_WEBHOOK_NOT_FOUND' } });
  });

  it('pages deliveries newest first with a next link', async () => {
    const hook = await register({ url: 'http://127.0.0.1:9/refused' });
    gw.gateway.ctx.events.publish(alarmEvent(10));
    gw.gateway.ctx.events.publish(alarmEvent(11));
    await expect.poll(async () => (await deliveries(hook.id)).length).toBe(2);
    const page1 = (await gw.api('GET', `/api/webhooks/${hook.id}/deliveries?limit=1`)).body;
    expect(page1.deliveries.map((d: { eventType: string }) => d.eventType)).toEqual(['alarm']);
    expect(page1.next).toMatch(/^\/api\/webhooks\/wh_\w+\/deliveries\?limit=1&beforeId=\d+$/);
    const page2 = (await gw.api('GET', page1.next)).body;
    expect(page2.deliveries[0].id).toBeLessThan(page1.deliveries[0].id);
    const last = (await gw.api('GET', `${page1.next.replace('limit=1', 'limit=5')}`)).body;
    expect(last.next).toBeNull();
    await gw.api('DELETE', `/api/webhooks/${hook.id}`);
  });

  it('a receiver that fails twice gets the alarm on the third attempt, validly signed', async () => {
    const r = await receiver((n, res) => res.writeHead(n <= 2 ? 500 : 200).end(n <= 2 ? 'busy' : 'ok'));
    const hook = await register({ url: r.url, severities: ['critical', 'major'] });
    gw.gateway.ctx.events.publish(alarmEvent(1, { severity: 'warning' })); // filtered out
    gw.gateway.ctx.events.publish(alarmEvent(2, { severity: 'critical' }));

    await expect.poll(() => r.received.length).toBe(1);
    await expect.poll(async () => (await deliveries(hook.id))[0]?.attempts).toBe(1);
    const [first] = await deliveries(hook.id);
    expect(first).toMatchObject({ status: 'pending', lastStatusCode: 500, lastError: 'HTTP 500: busy' });
    // The first back-off is 1 s ± 20 %.
    const wait = Date.parse(first.nextAttemptAt) - clock.now();
    expect(wait).toBeGreaterThanOrEqual(800);
    expect(wait).toBeLessThanOrEqual(1200);
    clock.advance(1300);
    await expect.poll(() => r.received.length).toBe(2);
    await expect.poll(async () => (await deliveries(hook.id))[0]?.attempts).toBe(2);
    clock.advance(2500); // 2 s ± 20 %
    await expect.poll(async () => (await deliveries(hook.id))[0]?.status).toBe('delivered');
    expect(await deliveries(hook.id)).toEqual([
      expect.objectContaining({ eventType: 'alarm', status: 'delivered', attempts: 3, lastStatusCode: 200 }),
    ]);
    expect(r.received).toHaveLength(3);

    const last = r.received[2];
    const body = JSON.parse(last.body);
    expect(body).toMatchObject({
      type: 'alarm',
      transition: 'raised',
      alarm: { id: 'alm-2', severity: 'critical' },
    });
    expect(body.id).toBe(r.received[0] && JSON.parse(r.received[0].body).id); // the same event each time
    const nowSeconds = Math.floor(clock.now() / 1000);
    const ts = last.headers['x-citygate-timestamp'] as string;
    const sig = last.headers['x-citygate-signature'] as string;
    expect(sig).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifyWebhook(hook.secret, sig, ts, last.body, nowSeconds)).toBe(true);
    expect(verifyWebhook('whsec_other', sig, ts, last.body, nowSeconds)).toBe(false);
    expect(verifyWebhook(hook.secret, sig, ts, last.body.replace('critical', 'warning'), nowSeconds)).toBe(
      false,
    );
    expect(last.headers['x-citygate-event']).toBe('alarm');
    expect(await metric('retried')).toBeGreaterThanOrEqual(2);
    expect(await metric('delivered')).toBeGreaterThanOrEqual(1);
    await gw.api('DELETE', `/api/webhooks/${hook.id}`);
  });

  it('follows no redirect, reads a few KB of the answer, and gives up after WEBHOOK_MAX_ATTEMPTS', async () => {
    const r = await receiver((n, res) => {
      if (n === 1) return res.writeHead(302, { location: 'http://example.org/elsewhere' }).end();
      res.writeHead(500).end('e'.repeat(1024 * 1024));
    });
    const hook = await register({ url: r.url });
    const failedBefore = await metric('failed');
    gw.gateway.ctx.events.publish(alarmEvent(3));
    await expect.poll(async () => (await deliveries(hook.id))[0]?.attempts).toBe(1);
    expect((await deliveries(hook.id))[0].lastError).toBe(
      'redirect to http://example.org/elsewhere not followed',
    );
    clock.advance(1300);
    await expect.poll(async () => (await deliveries(hook.id))[0]?.attempts).toBe(2);
    expect((await deliveries(hook.id))[0].lastError.length).toBeLessThan(300);
    clock.advance(2500);
    await expect.poll(async () => (await deliveries(hook.id))[0]?.status).toBe('failed');
    expect((await deliveries(hook.id))[0]).toMatchObject({
      attempts: 3,
      lastStatusCode: 500,
      nextAttemptAt: null,
    });
    expect(r.received).toHaveLength(3);
    expect(await metric('failed')).toBe(failedBefore + 1);
    await gw.api('DELETE', `/api/webhooks/${hook.id}`);
  });

  it('times an attempt out on the clock when the receiver never answers', async () => {
    const r = await receiver(() => {});
    const hook = await register({ url: r.url });
    gw.gateway.ctx.events.publish(alarmEvent(4));
    await expect.poll(() => r.received.length).toBe(1);
    clock.advance(10_000);
    await expect
      .poll(async () => (await deliveries(hook.id))[0]?.lastError)
      .toBe('no answer within 10000 ms');
    await gw.api('DELETE', `/api/webhooks/${hook.id}`);
  });
});

describe('webhook deliveries survive a restart', () => {
  it('a delivery pending when the gateway stops is sent after it starts again', async () => {
    let accept = false;
    const r = await startReceiver((_n, res) => res.writeHead(accept ? 204 : 503).end());
    const clock = new FakeClock();
    let gw = await startTestGateway({ clock });
    try {
      const hook = (await gw.api('POST', '/api/webhooks', { url: r.url })).body;
      gw.gateway.ctx.events.publish(alarmEvent(5));
      const attempts = async () =>
        (await gw.api('GET', `/api/webhooks/${hook.id}/deliveries`)).body.deliveries[0];
      await expect.poll(async () => (await attempts())?.attempts).toBe(1);
      const eventId = JSON.parse(r.received[0].body).id;
      await gw.stop({ keepData: true });

      accept = true;
      gw = await startTestGateway({ clock: new FakeClock(clock.now() + 60_000), dataDir: gw.dataDir });
      await expect.poll(async () => (await attempts())?.status).toBe('delivered');
      expect(await attempts()).toMatchObject({ attempts: 2, lastStatusCode: 204, lastError: null });
      expect(r.received.map((x) => JSON.parse(x.body).id)).toEqual([eventId, eventId]);
    } finally {
      await gw.stop();
      await r.close();
    }
  });
});

describe('stopping with an attempt in flight', () => {
  it('cancels it without counting it, and sends the delivery again after the restart', async () => {
    const r = await startReceiver((n, res) => {
      if (n > 1) res.writeHead(200).end(); // the first request is left hanging
    });
    const clock = new FakeClock();
    let gw = await startTestGateway({ clock });
    try {
      const hook = (await gw.api('POST', '/api/webhooks', { url: r.url })).body;
      gw.gateway.ctx.events.publish(alarmEvent(6));
      await expect.poll(() => r.received.length).toBe(1);
      await gw.stop({ keepData: true });
      gw = await startTestGateway({ clock: new FakeClock(clock.now() + 60_000), dataDir: gw.dataDir });
      const delivery = async () =>
        (await gw.api('GET', `/api/webhooks/${hook.id}/deliveries`)).body.deliveries[0];
      await expect.poll(async () => (await delivery())?.status).toBe('delivered');
      expect(await delivery()).toMatchObject({ attempts: 1, lastStatusCode: 200 });
      expect(r.received).toHaveLength(2);
    } finally {
      await gw.stop();
      await r.close();
    }
  });
});
