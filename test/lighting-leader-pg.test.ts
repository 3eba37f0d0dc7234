import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hanoiPrograms } from '../firmware-specs/lighting/hanoi.ts';
import { clusterSettings } from './helpers/cluster.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { createTestDatabase, type TestDatabase } from './helpers/pg.ts';
import { createTestRedis, type TestRedis } from './helpers/redis.ts';

/**
 * Two gateway nodes on one PostgreSQL registry, both with LIGHTING_SCHEDULER on: one runs the
 * calendar, both serve the lighting API; edits on the other node reach the runner through the
 * store; when the runner stops, the other takes over within seconds.
 */
let db: TestDatabase;
let redis: TestRedis;
let a: TestGateway | undefined;
let b: TestGateway | undefined;

// Nodes of one cluster share the bootstrap admin token (a different one would retire the first).
const adminToken = `lighting-leader-${Date.now()}-admin`;
const node = (name: string) =>
  startTestGateway({
    config: clusterSettings(db, redis, name, adminToken),
    lighting: { enabled: true, tickMs: 300 },
  });

beforeAll(async () => {
  db = await createTestDatabase('lighting_leader');
  redis = createTestRedis('lighting_leader');
  a = await node('a');
  b = await node('b');
});

afterAll(async () => {
  await b?.stop();
  await a?.stop();
  await redis?.cleanup();
  await db?.drop();
});

describe('street lighting on two nodes', () => {
  it('runs the calendar on one node; edits and overrides made on the other reach it; the other takes over', async () => {
    const first = a!;
    const runner = first.gateway.lighting;
    expect(runner.leader?.isLeader()).toBe(true);
    expect(b!.gateway.lighting.leader?.isLeader()).toBe(false);
    // The defaults were seeded once, though both nodes started on an empty database.
    const calendar = (await b!.api('GET', '/api/lighting/calendar')).body;
    expect(calendar).toMatchObject({ version: 1, updatedBy: 'defaults' });

    const edited = { ...hanoiPrograms[0], name: 'edited on b' };
    expect((await b!.api('PUT', `/api/lighting/programs/${edited.id}`, edited)).status).toBe(200);
    await expect.poll(() => runner.scheduler.programs.get(edited.id)?.name).toBe('edited on b');

    const lamp = await b!.api('POST', '/api/devices', {
      id: 'sl-leader-1',
      model: 'lumina-slc300',
      firmware: '1.0',
      district: 'Hoàn Kiếm',
      ward: 'Hàng Bạc',
      lat: 21.0285,
      lon: 105.8542,
    });
    expect(lamp.status, JSON.stringify(lamp.body)).toBe(201);
    const o = await b!.api('POST', '/api/lighting/overrides', {
      group: { ids: ['sl-leader-1'] },
      level: 30,
      minutes: 30,
      reason: 'works',
    });
    expect(o.status, JSON.stringify(o.body)).toBe(201);
    await expect.poll(() => runner.scheduler.overrides.map((x) => x.id)).toEqual([o.body.id]);
    expect((await first.api('GET', '/api/lighting/overrides')).body.overrides.map((x: any) => x.id)).toEqual([
      o.body.id,
    ]);

    const stoppedAt = Date.now();
    await first.stop();
    a = undefined;
    await expect.poll(() => b!.gateway.lighting.leader?.isLeader(), { timeout: 8000 }).toBe(true);
    expect(Date.now() - stoppedAt).toBeLessThan(8000);
    // The campaigns' leadership moved too.
    await expect.poll(() => b!.gateway.campaigns.leader?.isLeader(), { timeout: 8000 }).toBe(true);
    expect(b!.gateway.lighting.scheduler.overrides.map((x) => x.id)).toEqual([o.body.id]);
  }, 60_000);
});
