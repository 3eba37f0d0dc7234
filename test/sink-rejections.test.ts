import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { eventually } from './helpers/wait.ts';

/**
 * A database that refuses malformed lines with 400. victoria-metrics accepts anything (it skips
 * what it cannot parse and answers 204) and a real InfluxDB 2 is not to be had here, so this one
 * HTTP server stands in for InfluxDB's documented answer; it speaks the v2 write path only.
 */
function refusingInflux(): Promise<{ server: Server; url: string; stored: string[] }> {
  const stored: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      if (!req.url?.startsWith('/api/v2/write')) return res.writeHead(404).end();
      const bad = body.split('\n').find((l) => l.startsWith('poison'));
      if (bad) {
        res.writeHead(400, { 'content-type': 'application/json' });
        return res.end(
          JSON.stringify({ code: 'invalid', message: `unable to parse '${bad}': missing fields` }),
        );
      }
      stored.push(...body.split('\n').filter(Boolean));
      res.writeHead(204).end();
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, stored }),
    ),
  );
}

describe('a batch the database refuses as malformed', () => {
  let gw: TestGateway;
  let influx: Awaited<ReturnType<typeof refusingInflux>>;
  beforeAll(async () => {
    influx = await refusingInflux();
    gw = await startTestGateway({ influxUrl: influx.url });
  });
  afterAll(async () => {
    await gw?.stop();
    influx?.server.close();
  });

  it('keeps the refused line as a dead letter and lets every other reading through', async () => {
    const dev = await gw.register({ id: 'sl-poison', model: 'lumina-slc300', firmware: '1.0' });
    // The database is down-stream of a commit that went bad (the gateway's own lines are well formed).
    gw.gateway.ctx.outbox.commit(['poison,device_id=x value 1'], []);
    const client = await gw.connect(dev.id, dev.secret);
    for (let i = 0; i < 20; i++) {
      await client.publishAsync(
        `devices/${dev.id}/telemetry`,
        JSON.stringify({ on: true, dim: i, p: 1, lux: 1, hrs: i }),
        { qos: 1 },
      );
    }
    await client.endAsync();
    const stats = await eventually(
      async () => (await gw.api('GET', '/api/stats')).body,
      (s) => s.buffered === 0 && s.deadLettered === 1,
    );
    expect(stats).toMatchObject({ accepted: 20, buffered: 0, deadLettered: 1 });
    expect(influx.stored.filter((l) => l.includes('sl-poison'))).toHaveLength(20);
    const dead = (await gw.api('GET', '/api/sink/dead-letters')).body;
    expect(dead.entries[0]).toMatchObject({
      line: 'poison,device_id=x value 1',
      reason: expect.stringMatching(/unable to parse|400/),
    });
  });
});
