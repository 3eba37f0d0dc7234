import { Readable, Writable } from 'node:stream';
import {
  type ArtifactRow,
  artifactFromRow,
  artifactParams,
  type FirmwareArtifact,
  type FirmwareArtifactStore,
  type FirmwareImageStore,
  type ImageUpload,
} from '../firmware-artifacts.ts';
import type { PgPool } from './pg-db.ts';

/** Firmware artifact metadata on PostgreSQL (migration 004). */
export class PgFirmwareArtifactStore implements FirmwareArtifactStore {
  readonly #pool: PgPool;

  constructor(pool: PgPool) {
    this.#pool = pool;
  }

  async create(a: FirmwareArtifact): Promise<void> {
    await this.#pool.query(
      `INSERT INTO firmware_artifacts (id, model, version, from_versions, sha256, size, name, created_at, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      artifactParams(a),
    );
  }

  async get(id: string): Promise<FirmwareArtifact | undefined> {
    const { rows } = await this.#pool.query<ArtifactRow>('SELECT * FROM firmware_artifacts WHERE id = $1', [
      id,
    ]);
    return rows[0] && artifactFromRow(rows[0]);
  }

  async byModelVersion(model: string, version: string): Promise<FirmwareArtifact | undefined> {
    const { rows } = await this.#pool.query<ArtifactRow>(
      'SELECT * FROM firmware_artifacts WHERE model = $1 AND version = $2',
      [model, version],
    );
    return rows[0] && artifactFromRow(rows[0]);
  }

  async list(filter: { model?: string } = {}): Promise<FirmwareArtifact[]> {
    const { rows } = filter.model
      ? await this.#pool.query<ArtifactRow>(
          'SELECT * FROM firmware_artifacts WHERE model = $1 ORDER BY created_at, id',
          [filter.model],
        )
      : await this.#pool.query<ArtifactRow>('SELECT * FROM firmware_artifacts ORDER BY created_at, id');
    return rows.map(artifactFromRow);
  }

  async delete(id: string): Promise<boolean> {
    const { rowCount } = await this.#pool.query('DELETE FROM firmware_artifacts WHERE id = $1', [id]);
    return (rowCount ?? 0) > 0;
  }
}

export const IMAGE_CHUNK_BYTES = 1024 * 1024;

/**
 * Image bytes in `firmware_chunks`, so that every node of a cluster serves every download. An
 * upload is one transaction (a node dying mid-upload leaves nothing behind); a read fetches
 * one piece at a time, only the bytes of the range, so a download is never whole in memory.
 */
export class PgFirmwareImageStore implements FirmwareImageStore {
  readonly #pool: PgPool;
  readonly #chunkBytes: number;

  /** `chunkBytes` is for tests (pieces small enough to cross); reads work whatever it was. */
  constructor(pool: PgPool, opts: { chunkBytes?: number } = {}) {
    this.#pool = pool;
    this.#chunkBytes = opts.chunkBytes ?? IMAGE_CHUNK_BYTES;
  }

  async begin(id: string): Promise<ImageUpload> {
    const client = await this.#pool.connect();
    let open = true;
    const end = async (sql: 'COMMIT' | 'ROLLBACK') => {
      if (!open) return;
      open = false;
      try {
        await client.query(sql);
      } finally {
        client.release();
      }
    };
    try {
      await client.query('BEGIN');
      await client.query('DELETE FROM firmware_chunks WHERE artifact_id = $1', [id]);
    } catch (err) {
      await end('ROLLBACK').catch(() => {});
      throw err;
    }
    const size = this.#chunkBytes;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let offset = 0;
    const insert = async (piece: Buffer) => {
      await client.query('INSERT INTO firmware_chunks (artifact_id, start_byte, data) VALUES ($1, $2, $3)', [
        id,
        offset,
        piece,
      ]);
      offset += piece.length;
    };
    // Whole pieces go as soon as they are complete; the last, shorter one when the body ends.
    const flush = async (all: boolean) => {
      if (pendingBytes === 0 || (!all && pendingBytes < size)) return;
      let buf = Buffer.concat(pending, pendingBytes);
      while (buf.length >= size || (all && buf.length > 0)) {
        const piece = buf.subarray(0, Math.min(size, buf.length));
        await insert(piece);
        buf = buf.subarray(piece.length);
      }
      pending = buf.length ? [buf] : [];
      pendingBytes = buf.length;
    };
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        pending.push(chunk);
        pendingBytes += chunk.length;
        flush(false).then(() => done(), done);
      },
      final(done) {
        flush(true).then(() => done(), done);
      },
    });
    return { sink, commit: () => end('COMMIT'), abort: () => end('ROLLBACK') };
  }

  read(id: string, start: number, end: number): Readable {
    const pool = this.#pool;
    async function* pieces() {
      let pos = start;
      while (pos <= end) {
        // The piece holding `pos`: the last one starting at or before it.
        const { rows } = await pool.query<{ data: Buffer }>(
          `SELECT substring(data FROM ($2::bigint - start_byte + 1)::int FOR $3::int) AS data
           FROM firmware_chunks WHERE artifact_id = $1 AND start_byte <= $2
           ORDER BY start_byte DESC LIMIT 1`,
          [id, pos, Math.min(end - pos + 1, 2 ** 31 - 1)],
        );
        const data = rows[0]?.data;
        if (!data?.length) throw new Error(`firmware image ${id} has no byte ${pos}`);
        yield data;
        pos += data.length;
      }
    }
    return Readable.from(pieces(), { objectMode: false });
  }

  async delete(id: string): Promise<void> {
    await this.#pool.query('DELETE FROM firmware_chunks WHERE artifact_id = $1', [id]);
  }
}
