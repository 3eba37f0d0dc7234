import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditLog } from '../device-registry/audit.ts';
import { openPgRegistry, type PgPool } from '../device-registry/pg/pg-db.ts';
import {
  PgFirmwareArtifactStore,
  PgFirmwareImageStore,
} from '../device-registry/pg/pg-firmware-artifacts.ts';
import { loadSpecs } from '../firmware-specs/index.ts';
import { systemClock } from '../gateway/clock.ts';
import { ArtifactService } from '../gateway/firmware/artifact-service.ts';
import { randomImage, sha256 } from './helpers/firmware.ts';
import { createTestDatabase, type TestDatabase } from './helpers/pg.ts';

/**
 * Firmware images in PostgreSQL (cluster mode): streamed in, hashed, cut into pieces, and read
 * back by range from any node. Pieces of 1,000 bytes here, so ranges cross their borders.
 */
const PIECE = 1000;
const MAX = 50_000;
const specs = await loadSpecs();
const audit = { record: () => {} } as unknown as AuditLog;
let db: TestDatabase;
let pools: PgPool[];

const serviceOn = (pool: PgPool) =>
  new ArtifactService({
    store: new PgFirmwareArtifactStore(pool),
    images: new PgFirmwareImageStore(pool, { chunkBytes: PIECE }),
    maxBytes: MAX,
    specs,
    audit,
    clock: systemClock,
  });

/** A body arriving in uneven pieces, as a socket delivers it. */
const body = (image: Buffer, every = 777) =>
  Readable.from(
    (function* () {
      for (let i = 0; i < image.length; i += every) yield image.subarray(i, i + every);
    })(),
  );

const readAll = async (r: Readable) => {
  const parts: Buffer[] = [];
  for await (const p of r) parts.push(p as Buffer);
  return Buffer.concat(parts);
};

const meta = (image: Buffer, version = '3.0.0') => ({
  model: 'lumina-slc300',
  version,
  fromVersions: ['2.x'],
  sha256: sha256(image),
});

beforeAll(async () => {
  db = await createTestDatabase('firmware_images');
  // Two pools: two nodes of one cluster.
  pools = [await openPgRegistry(db.url), await openPgRegistry(db.url)];
});
afterAll(async () => {
  for (const p of pools ?? []) await p.end();
  await db?.drop();
});

describe('firmware images in PostgreSQL', () => {
  it('stores an upload in pieces with its sha256, and serves any range from another node', async () => {
    const image = randomImage(12_345);
    const a = await serviceOn(pools[0]).upload(body(image), meta(image), 'admin');
    expect(a).toMatchObject({ size: image.length, sha256: sha256(image) });
    const { rows } = await pools[0].query(
      'SELECT start_byte, octet_length(data) AS n FROM firmware_chunks WHERE artifact_id = $1 ORDER BY start_byte',
      [a.id],
    );
    expect(rows.map((r) => r.start_byte)).toEqual(Array.from({ length: 13 }, (_, i) => i * PIECE));
    expect(rows.map((r) => r.n)).toEqual([...Array(12).fill(PIECE), 345]);

    const other = serviceOn(pools[1]);
    const stored = await other.require(a.id);
    expect(sha256(await readAll(other.read(stored)))).toBe(sha256(image));
    for (const [start, end] of [
      [0, 0],
      [999, 1000],
      [1500, 4321],
      [998, 3001],
      [12_000, 12_344],
      [12_344, 12_344],
    ])
      expect((await readAll(other.read(stored, start, end))).equals(image.subarray(start, end + 1))).toBe(
        true,
      );
  });

  it('keeps nothing of an upload with the wrong sha256 or past the bound', async () => {
    const service = serviceOn(pools[0]);
    const image = randomImage(5000);
    await expect(
      service.upload(body(image), { ...meta(image, '3.1.0'), sha256: 'f'.repeat(64) }, 'admin'),
    ).rejects.toMatchObject({ code: 'FW_ERR_CHECKSUM' });
    const big = randomImage(MAX + 1);
    await expect(service.upload(body(big, 4096), meta(big, '3.1.0'), 'admin')).rejects.toMatchObject({
      code: 'FW_ERR_TOO_LARGE',
    });
    const { rows } = await pools[0].query(
      'SELECT count(DISTINCT artifact_id)::int AS images, (SELECT count(*)::int FROM firmware_artifacts) AS artifacts FROM firmware_chunks',
    );
    expect(rows[0]).toEqual({ images: 1, artifacts: 1 });
  });

  it('deletes the bytes with the artifact', async () => {
    const service = serviceOn(pools[1]);
    const [a] = await service.store.list();
    await service.delete(a.id, 'admin');
    const { rows } = await pools[0].query('SELECT count(*)::int AS n FROM firmware_chunks');
    expect(rows[0].n).toBe(0);
    expect(await service.store.get(a.id)).toBeUndefined();
  });
});
