import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgCampaignStore } from '../device-registry/pg/pg-campaigns.ts';
import { openPgRegistry, type PgPool } from '../device-registry/pg/pg-db.ts';
import {
  PgFirmwareArtifactStore,
  PgFirmwareImageStore,
} from '../device-registry/pg/pg-firmware-artifacts.ts';
import type { ModelSpec } from '../firmware-specs/define-device.ts';
import { loadSpecs } from '../firmware-specs/index.ts';
import { CampaignEngine } from '../gateway/campaigns/campaign-engine.ts';
import { ArtifactService } from '../gateway/firmware/artifact-service.ts';
import type { SimulatedDevice } from '../simulators/mqtt-device.ts';
import { randomImage, startDevices, uploadFirmware } from './helpers/firmware.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { createTestDatabase, type TestDatabase } from './helpers/pg.ts';
import { createTestRedis, type TestRedis } from './helpers/redis.ts';

/**
 * A gateway in cluster mode leads the campaigns; a second node's campaign API (an engine on its
 * own pool that does not run campaigns) creates, pauses and resumes them through the store.
 * Devices download their image from PostgreSQL through the gateway's HTTP API.
 */
const specs = await loadSpecs();
const lumina = specs.get('lumina-slc300') as ModelSpec;
let db: TestDatabase;
let redis: TestRedis;
let gw: TestGateway;
let pool: PgPool;
let follower: CampaignEngine;
let fleet: SimulatedDevice[] = [];

beforeAll(async () => {
  db = await createTestDatabase('campaigns_nodes');
  redis = createTestRedis('campaigns_nodes');
  gw = await startTestGateway({
    config: { DATABASE_URL: db.url, REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix },
  });
  pool = await openPgRegistry(db.url);
  const ctx = gw.gateway.ctx;
  follower = new CampaignEngine({
    ctx,
    store: new PgCampaignStore(pool),
    artifacts: new ArtifactService({
      store: new PgFirmwareArtifactStore(pool),
      images: new PgFirmwareImageStore(pool),
      maxBytes: 1 << 20,
      specs,
      audit: ctx.audit,
      clock: ctx.clock,
    }),
    commands: () => gw.gateway.commands.service,
    downloadUrl: () => 'http://127.0.0.1:9/never',
    shared: true,
  });
});

afterAll(async () => {
  await Promise.all(fleet.map((d) => d.stop(200)));
  await gw?.stop();
  await pool?.end();
  await redis?.cleanup();
  await db?.drop();
});

describe('campaigns in a cluster', () => {
  it('are run by the leader whichever node created, paused or resumed them', async () => {
    await expect.poll(() => gw.gateway.campaigns.leader?.isLeader()).toBe(true);
    fleet = await startDevices(gw, lumina, 4, { prefix: 'ota-nodes', firmware: '2.3.0' });
    const up = await uploadFirmware(gw, randomImage(300_000), {
      model: 'lumina-slc300',
      version: '3.0.0',
      from: '2.x',
    });
    expect(up.status).toBe(201);
    const input = {
      name: 'from the other node',
      artifactId: up.body.id,
      selector: { model: 'lumina-slc300' },
      groups: { sizes: [2] },
      successThreshold: 100,
      errorThreshold: 0,
      concurrency: 2,
      timeoutSeconds: 60,
    };
    const c = await follower.create(input, 'ana');
    await follower.pause(c.id, 'ana');
    // Nothing may start while it is paused, though the leader took it up.
    await new Promise((r) => setTimeout(r, 3000));
    const paused = (await gw.api('GET', `/api/campaigns/${c.id}`)).body;
    expect(paused).toMatchObject({ status: 'paused', total: { size: 4, pending: 4 } });
    // The same devices cannot be in a second campaign, wherever it is asked for.
    await expect(follower.create(input, 'ana')).rejects.toMatchObject({ code: 'CAMP_ERR_NO_DEVICES' });

    await follower.resume(c.id, 'bao');
    await expect
      .poll(async () => (await gw.api('GET', `/api/campaigns/${c.id}`)).body.status, { timeout: 30_000 })
      .toBe('succeeded');
    for (const d of fleet) expect(d.firmwareVersion).toBe('3.0.0');
    // The follower reads the outcome from the store.
    expect(await follower.progress(c.id)).toMatchObject({ total: { size: 4, succeeded: 4 } });
    expect((await follower.targets(c.id)).every((t) => t.status === 'succeeded' && t.progress === 100)).toBe(
      true,
    );
    const { rows } = await pool.query('SELECT status FROM campaigns WHERE id = $1', [c.id]);
    expect(rows[0].status).toBe('succeeded');
  }, 60_000);
});
