import { connect } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alarmEvent } from './helpers/events.ts';
import { FakeClock } from './helpers/fake-clock.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { openEvents, type SseStream } from './helpers/sse-client.ts';

describe('GET /api/events stays bounded', () => {
  let gw: TestGateway;
  const open: SseStream[] = [];
  const metric = async (name: string) => {
    const text = (await fetch(`${gw.httpUrl}/metrics`).then((r) => r.text())) as string;
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line ? Number(line.split(' ')[1]) : null;
  };
  const events = async () => {
    const s = await openEvents(`${gw.httpUrl}/api/events?types=alarm`, {
      authorization: `Bearer ${gw.admin}`,
    });
    open.push(s);
    return s;
  };

  beforeAll(async () => {
    gw = await startTestGateway({
      clock: new FakeClock(),
      config: { EVENTS_MAX_CLIENTS: 2, EVENTS_BUFFER: 100 },
    });
  });
  afterAll(async () => {
    for (const s of open) s.close();
    await gw?.stop();
  });

  it('refuses a stream past EVENTS_MAX_CLIENTS with a 503, and takes one again when a client leaves', async () => {
    const a = await events();
    const b = await events();
    expect([a.status, b.status]).toEqual([200, 200]);
    await expect.poll(() => metric('citygate_events_clients')).toBe(2);
    const c = await events();
    expect(c.status).toBe(503);
    expect(await c.body()).toMatchObject({ code: 'EVT_ERR_TOO_MANY_CLIENTS' });
    a.close();
    await expect.poll(() => metric('citygate_events_clients')).toBe(1);
    const d = await events();
    expect(d.status).toBe(200);
    b.close();
    d.close();
    await expect.poll(() => metric('citygate_events_clients')).toBe(0);
  });

  it('replays a resume backlog larger than a socket takes at once, waiting for it to drain', async () => {
    const big = 'y'.repeat(8 * 1024);
    const first = await events();
    gw.gateway.ctx.events.publish(alarmEvent(0));
    await expect.poll(() => first.events.length).toBe(1);
    first.close();
    for (let n = 1; n <= 99; n++) {
      const e = alarmEvent(n);
      if (e.type === 'alarm') e.alarm.message = big;
      gw.gateway.ctx.events.publish(e);
    }
    const resumed = await openEvents(`${gw.httpUrl}/api/events?types=alarm`, {
      authorization: `Bearer ${gw.admin}`,
      'last-event-id': first.events[0].id!,
    });
    open.push(resumed);
    await expect.poll(() => resumed.events.length).toBe(99);
    expect(resumed.events.map((e) => e.data.alarm.value)).toEqual(
      Array.from({ length: 99 }, (_, i) => i + 1),
    );
    expect(await metric('citygate_events_slow_clients_dropped_total')).toBe(0);
    resumed.close();
    await expect.poll(() => metric('citygate_events_clients')).toBe(0);
  });

  it('drops a client that stops reading instead of buffering for it', async () => {
    const droppedBefore = await metric('citygate_events_slow_clients_dropped_total');
    // A client that sends its request and then never reads: its socket's buffers fill up.
    const socket = connect(gw.gateway.httpPort, '127.0.0.1');
    socket.pause();
    let closed = false;
    socket.on('close', () => {
      closed = true;
    });
    socket.on('error', () => {});
    socket.write(
      `GET /api/events?types=alarm HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${gw.admin}\r\n\r\n`,
    );
    await expect.poll(() => metric('citygate_events_clients')).toBe(1);
    const big = 'x'.repeat(8 * 1024);
    // Bounded: at most 40 rounds of 250 events of ~8 KB (80 MB) before the test gives up.
    for (
      let round = 0;
      round < 40 && (await metric('citygate_events_slow_clients_dropped_total')) === droppedBefore;
      round++
    ) {
      for (let i = 0; i < 250; i++) {
        const e = alarmEvent(round * 1000 + i);
        if (e.type === 'alarm') e.alarm.message = big;
        gw.gateway.ctx.events.publish(e);
      }
      await new Promise((r) => setImmediate(r));
    }
    expect(await metric('citygate_events_slow_clients_dropped_total')).toBe(droppedBefore! + 1);
    await expect.poll(() => metric('citygate_events_clients')).toBe(0);
    socket.resume();
    await expect.poll(() => closed).toBe(true);
    // A reader that keeps up is not affected.
    const reader = await events();
    gw.gateway.ctx.events.publish(alarmEvent(7));
    await expect.poll(() => reader.events.length).toBe(1);
  });
});

describe('stopping the gateway', () => {
  it('ends the open event streams instead of waiting on them', async () => {
    const gw = await startTestGateway();
    const s = await openEvents(`${gw.httpUrl}/api/events`, { authorization: `Bearer ${gw.admin}` });
    expect(s.status).toBe(200);
    await gw.stop();
    await s.ended;
  });
});

describe('the ?token= of GET /api/events', () => {
  it('never reaches the log, whatever the request does', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'trace' }, { write: (line: string) => lines.push(line) });
    const gw = await startTestGateway({ log, config: { EVENTS_MAX_CLIENTS: 1 } });
    const viewer = (await gw.api('POST', '/api/tokens', { name: 'wall', role: 'viewer' })).body.token;
    const url = (token: string) => `${gw.httpUrl}/api/events?types=alarm&token=${encodeURIComponent(token)}`;
    const ok = await openEvents(url(viewer));
    const busy = await openEvents(url(viewer));
    const bad = await openEvents(url(`${viewer}x`));
    ok.close();
    await gw.stop();
    expect([ok.status, busy.status, bad.status]).toEqual([200, 503, 401]);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.filter((l) => l.includes(viewer))).toEqual([]);
  });
});
