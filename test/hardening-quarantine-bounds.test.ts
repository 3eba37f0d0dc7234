import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { Outbox } from '../gateway/outbox.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';

const bad = (n: number, size = 0) => `bad-${n}:`.padEnd(size, 'x');

// Issue 8, row 5: three 180 MiB payloads were acknowledged and quarantined whole, outside the
// outbox's disk bound, and GET /api/quarantine then answered 500 after peaking at 2.9 GB.
describe('the quarantine is bounded', () => {
  let gw: TestGateway | undefined;
  afterEach(async () => {
    await gw?.stop();
    gw = undefined;
  });

  const quarantineOf = async (g: TestGateway, deviceId: string) =>
    (await g.api('GET', `/api/quarantine?deviceId=${deviceId}`)).body.entries.map(
      (e: { payload: string }) => e.payload.split(':')[0],
    );

  it('keeps the first QUARANTINE_MAX_RAW_BYTES with size and sha256; disk bound and API answer stay small', async () => {
    gw = await startTestGateway();
    const dev = await gw.register({ model: 'lumina-slc300', firmware: '1.0.0' });
    const client = await gw.connect(dev.id, dev.secret);
    const big = Array.from({ length: 20 }, (_, i) => bad(i, 200_000));
    for (const payload of big) await client.publishAsync(`devices/${dev.id}/telemetry`, payload, { qos: 1 });
    await client.endAsync();

    const res = await fetch(`${gw.httpUrl}/api/quarantine?limit=1000`, {
      headers: { authorization: `Bearer ${gw.admin}` },
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text.length).toBeLessThan(256 * 1024); // 20 × 4 KiB and the reasons, not 20 × 200 KB
    const { entries, total } = JSON.parse(text);
    expect(total).toBe(20);
    expect(entries[0]).toMatchObject({
      payload: big[19].slice(0, 4096),
      size: 200_000,
      truncated: true,
      sha256: createHash('sha256').update(big[19]).digest('hex'),
    });
    const stats = (await gw.api('GET', '/api/stats')).body;
    expect(stats.outboxDiskBytes).toBeGreaterThan(20 * 4096);
    expect(stats.outboxDiskBytes).toBeLessThan(20 * 5000);
  });

  it('keeps QUARANTINE_MAX_PER_DEVICE entries per device, dropping that device’s oldest', async () => {
    gw = await startTestGateway({ config: { QUARANTINE_MAX_PER_DEVICE: 5 } });
    const noisy = await gw.register({ model: 'lumina-slc300', firmware: '1.0.0' });
    const quiet = await gw.register({ model: 'lumina-slc300', firmware: '1.0.0' });
    const q = await gw.connect(quiet.id, quiet.secret);
    for (const n of [1, 2]) await q.publishAsync(`devices/${quiet.id}/telemetry`, bad(n), { qos: 1 });
    await q.endAsync();
    const c = await gw.connect(noisy.id, noisy.secret);
    for (let n = 1; n <= 8; n++) await c.publishAsync(`devices/${noisy.id}/telemetry`, bad(n), { qos: 1 });
    await c.endAsync();

    expect(await quarantineOf(gw, noisy.id)).toEqual(['bad-8', 'bad-7', 'bad-6', 'bad-5', 'bad-4']);
    expect(await quarantineOf(gw, quiet.id)).toEqual(['bad-2', 'bad-1']);
    const metrics = await fetch(`${gw.httpUrl}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/^citygate_quarantine_evicted_total\{store="quarantine"\} 3$/m);
  });

  it('keeps the whole quarantine under QUARANTINE_MAX_BYTES, oldest first', async () => {
    gw = await startTestGateway({ config: { QUARANTINE_MAX_BYTES: 20_000 } });
    const dev = await gw.register({ model: 'lumina-slc300', firmware: '1.0.0' });
    const client = await gw.connect(dev.id, dev.secret);
    for (let n = 1; n <= 10; n++)
      await client.publishAsync(`devices/${dev.id}/telemetry`, bad(n, 3000), { qos: 1 });
    await client.endAsync();

    const kept = await quarantineOf(gw, dev.id);
    // About 3.2 KB a row: six fit in 20,000 bytes, ten do not.
    expect(kept.length).toBeGreaterThanOrEqual(5);
    expect(kept.length).toBeLessThanOrEqual(6);
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => `bad-${10 - i}`));
    expect((await gw.api('GET', '/api/stats')).body.outboxDiskBytes).toBeLessThanOrEqual(20_000);
  });
});

describe('API lists are paginated and capped', () => {
  let gw: TestGateway | undefined;
  afterEach(async () => {
    await gw?.stop();
    gw = undefined;
  });

  /** Follows `next` links from `first`; every page must answer 200. */
  async function walk<T>(g: TestGateway, first: string, key: string): Promise<{ items: T[]; pages: number }> {
    const items: T[] = [];
    let next: string | null = first;
    type Page = { status: number; body: Record<string, unknown> & { next: string | null } };
    let pages = 0;
    while (next && pages < 20) {
      const res: Page = await g.api('GET', next);
      expect(res.status).toBe(200);
      items.push(...(res.body[key] as T[]));
      next = res.body.next;
      pages++;
    }
    return { items, pages };
  }

  it('quarantine: at most 1000 a page, 100 by default, a next link to the rest', async () => {
    gw = await startTestGateway({ config: { QUARANTINE_MAX_PER_DEVICE: 2000 } });
    const dev = await gw.register({ model: 'lumina-slc300', firmware: '1.0.0' });
    const client = await gw.connect(dev.id, dev.secret);
    await Promise.all(
      Array.from({ length: 1100 }, (_, n) =>
        client.publishAsync(`devices/${dev.id}/telemetry`, bad(n), { qos: 1 }),
      ),
    );
    await client.endAsync();

    expect((await gw.api('GET', '/api/quarantine?limit=1001')).status).toBe(400);
    const first = await gw.api('GET', '/api/quarantine');
    expect(first.body.entries).toHaveLength(100);
    const { items, pages } = await walk<{ id: number }>(gw, '/api/quarantine?limit=1000', 'entries');
    expect(pages).toBe(2);
    expect(new Set(items.map((e) => e.id)).size).toBe(1100);
  });

  it('devices and dead letters: capped pages with a next link', async () => {
    gw = await startTestGateway();
    for (let i = 0; i < 5; i++) await gw.register({ model: 'lumina-slc300', firmware: '1.0.0' });
    expect((await gw.api('GET', '/api/devices?limit=1001')).status).toBe(400);
    const { items, pages } = await walk<{ id: string }>(
      gw,
      '/api/devices?limit=2&family=streetlight',
      'devices',
    );
    expect(pages).toBe(3);
    expect(new Set(items.map((d) => d.id)).size).toBe(5);
    const dead = await gw.api('GET', '/api/sink/dead-letters');
    expect(dead.body).toMatchObject({ total: 0, entries: [], next: null });
  });
});

describe('dead letters', () => {
  it('are kept under the quarantine’s byte cap, oldest first, and counted in the disk bound', () => {
    const dir = mkdtempSync(join(tmpdir(), 'citygate-dead-'));
    const evicted: string[] = [];
    const outbox = new Outbox(join(dir, 'outbox.db'), {
      quarantine: { maxRawBytes: 4096, maxPerDevice: 1000, maxBytes: 10_000 },
      onEvict: (n, store) => evicted.push(`${store} ${n}`),
    });
    try {
      for (let n = 1; n <= 5; n++) {
        outbox.commit([bad(n, 3000)], []);
        const batch = outbox.peek(10)!;
        outbox.deadLetter(batch, [{ line: batch.text, reason: 'HTTP 400' }], n);
      }
      expect(outbox.deadLetters().map((d) => d.line.split(':')[0])).toEqual(['bad-5', 'bad-4', 'bad-3']);
      expect(evicted).toEqual(['dead_letters 1', 'dead_letters 1']);
      expect(outbox.diskBytes).toBeGreaterThan(9000);
      expect(outbox.diskBytes).toBeLessThanOrEqual(10_000);
    } finally {
      outbox.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('an outbox kept before the quarantine had bounds', () => {
  it('is measured and trimmed at start, and its big rows are read only in part', () => {
    const dir = mkdtempSync(join(tmpdir(), 'citygate-legacy-'));
    try {
      const file = join(dir, 'outbox.db');
      // The schema of e0c8454, with payloads kept whole.
      const old = new Database(file);
      old.exec(`CREATE TABLE quarantine (
        id INTEGER PRIMARY KEY AUTOINCREMENT, received_at INTEGER NOT NULL, device_id TEXT NOT NULL,
        topic TEXT NOT NULL, payload BLOB NOT NULL, reasons TEXT NOT NULL)`);
      for (let n = 1; n <= 3; n++)
        old
          .prepare(
            'INSERT INTO quarantine (received_at, device_id, topic, payload, reasons) VALUES (?, ?, ?, ?, ?)',
          )
          .run(n, 'd', 't', Buffer.from(bad(n, 1024 ** 2)), '[{"path":"$","message":"not JSON"}]');
      old.close();

      const evicted: number[] = [];
      const outbox = new Outbox(file, {
        quarantine: { maxRawBytes: 4096, maxPerDevice: 1000, maxBytes: 2.5 * 1024 ** 2 },
        onEvict: (n) => evicted.push(n),
      });
      try {
        expect(evicted).toEqual([1]);
        expect(outbox.diskBytes).toBeGreaterThan(2 * 1024 ** 2);
        expect(outbox.diskBytes).toBeLessThan(2.5 * 1024 ** 2);
        const rows = outbox.quarantine();
        expect(rows.map((r) => r.payload.split(':')[0])).toEqual(['bad-3', 'bad-2']);
        expect(rows[0]).toMatchObject({ size: 1024 ** 2, truncated: true, sha256: null });
        expect(rows[0].payload).toHaveLength(4096);
      } finally {
        outbox.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
