import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';

/** Issue 8, "what must hold" 2: command lists are paginated and capped, histories bounded. */
describe('command lists are paginated and capped', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(async () => gw?.stop());

  it("a device's commands come a page at a time, newest first, and a page has at most 1000", async () => {
    const dev = await gw.register({ id: 'em-pages', model: 'vinasmart-em310', firmware: '1.0' });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push(
        (await gw.api('POST', `/api/devices/${dev.id}/commands`, { name: 'readNow', params: {} })).body.id,
      );
    const newest = [...ids].reverse();
    const seen: string[] = [];
    let before: string | null = null;
    for (let page = 0; page < 4; page++) {
      const q: string = `limit=2${before ? `&before=${before}` : ''}`;
      const res = await gw.api('GET', `/api/devices/${dev.id}/commands?${q}`);
      expect(res.status).toBe(200);
      expect(res.body.commands.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.commands.map((c: { id: string }) => c.id));
      before = res.body.next;
      if (!before) break;
    }
    expect(seen).toEqual(newest);
    expect((await gw.api('GET', `/api/devices/${dev.id}/commands?limit=5000`)).status).toBe(400);
  });

  it('a device repeating a late reply does not grow the command history without bound', async () => {
    const dev = await gw.register({ id: 'em-late-spam', model: 'vinasmart-em310', firmware: '1.0' });
    const client = await gw.connect(dev.id, dev.secret);
    await client.subscribeAsync(`devices/${dev.id}/commands/+`, { qos: 1 });
    const id = (await gw.api('POST', `/api/devices/${dev.id}/commands`, { name: 'readNow', params: {} })).body
      .id;
    const topic = `devices/${dev.id}/commands/${id}/reply`;
    await client.publishAsync(topic, JSON.stringify({ ok: true, result: {} }), { qos: 1 });
    await vi.waitFor(async () =>
      expect((await gw.api('GET', `/api/commands/${id}`)).body.status).toBe('succeeded'),
    );
    for (let i = 0; i < 40; i++)
      await client.publishAsync(topic, JSON.stringify({ ok: true, result: { i } }), { qos: 1 });
    const c = (await gw.api('GET', `/api/commands/${id}`)).body;
    expect(c.status).toBe('succeeded');
    expect(c.history.length).toBeLessThanOrEqual(20);
    expect(c.history.at(-1).detail).toMatch(/^late reply/);
    await client.endAsync();
  });

  it("a bulk roll-out's per-device outcomes come a page at a time", async () => {
    for (let i = 0; i < 3; i++)
      await gw.register({
        id: `em-bulk-page-${i}`,
        model: 'vinasmart-em310',
        firmware: '1.0',
        tags: ['bulk-page'],
      });
    const started = await gw.api('POST', '/api/commands/bulk', {
      name: 'readNow',
      params: {},
      selector: { tag: 'bulk-page' },
    });
    expect(started.status).toBe(202);
    const url = `/api/commands/bulk/${started.body.id}`;
    await vi.waitFor(async () => expect((await gw.api('GET', url)).body.submitted).toBe(3));
    const first = (await gw.api('GET', `${url}?limit=2`)).body;
    expect(first.devices).toHaveLength(2);
    expect(first.nextOffset).toBe(2);
    const second = (await gw.api('GET', `${url}?limit=2&offset=2`)).body;
    expect(second.devices).toHaveLength(1);
    expect(second.nextOffset).toBeNull();
    expect(first.total).toBe(3);
    expect((await gw.api('GET', `${url}?limit=20000`)).status).toBe(400);
  });
});
