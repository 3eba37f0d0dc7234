import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.ts';
import { alarmEvent } from './helpers/events.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';

describe('CLI: citygate events and webhooks', () => {
  let gw: TestGateway;
  const cli = (args: string[]) => runCli(gw, args, { timeoutMs: 20_000 });

  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(async () => gw?.stop());

  it('follows the live stream and stops after --count events', async () => {
    const done = cli(['events', '--types', 'alarm', '--count', '2']);
    const clients = async () =>
      (await fetch(`${gw.httpUrl}/metrics`).then((r) => r.text())).match(
        /^citygate_events_clients (\d+)/m,
      )?.[1];
    await expect.poll(clients, { timeout: 15_000 }).toBe('1');
    gw.gateway.ctx.events.publish(alarmEvent(1, { severity: 'critical' }));
    gw.gateway.ctx.events.publish(alarmEvent(2));
    const res = await done;
    expect(res.code).toBe(0);
    const lines = res.out.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/alarm\s+raised\s+critical sl-1\s+fault code 1 \(rules\)/);
  });

  it('registers a webhook, shows the secret once, lists it and its deliveries, and removes it', async () => {
    const add = await cli(['webhook', 'add', 'http://127.0.0.1:9/hook', '--severities', 'critical,major']);
    expect(add.code).toBe(0);
    const id = add.out.match(/webhook (wh_\w+) registered/)?.[1];
    expect(add.out).toMatch(/whsec_/);
    const list = await cli(['webhooks']);
    expect(list.out).toContain(id);
    expect(list.out).toContain('critical,major');
    expect(list.out).not.toMatch(/whsec_/);
    const deliveries = await cli(['webhook', 'deliveries', id!]);
    expect(deliveries.code).toBe(0);
    expect(deliveries.out).toMatch(/^id\s+eventType\s+status/);
    expect((await cli(['webhook', 'rm', id!])).out).toContain(`webhook ${id} deleted`);
    const gone = await cli(['webhook', 'rm', id!]);
    expect(gone).toMatchObject({ code: 1, err: expect.stringMatching(/404 webhook .* not found/) });
  });
});
