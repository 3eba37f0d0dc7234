import type { Readable, Writable } from 'node:stream';
import type { Db } from './db.ts';

/** A firmware image an admin registered: which model it is for and which versions it upgrades. */
export interface FirmwareArtifact {
  id: string;
  model: string;
  version: string;
  /** Versions or patterns (`1.x`, `1.4.2`) a device must run to take this image. */
  fromVersions: string[];
  sha256: string;
  size: number;
  /** The uploaded file's name, for people only; never used as a path. */
  name: string | null;
  createdAt: number;
  createdBy: string;
}

/** Artifact metadata (SQLite here, PostgreSQL in pg/pg-firmware-artifacts.ts). */
export interface FirmwareArtifactStore {
  create(a: FirmwareArtifact): Promise<void>;
  get(id: string): Promise<FirmwareArtifact | undefined>;
  byModelVersion(model: string, version: string): Promise<FirmwareArtifact | undefined>;
  list(filter?: { model?: string }): Promise<FirmwareArtifact[]>;
  delete(id: string): Promise<boolean>;
}

/** An image being stored: bytes are piped into `sink`, then it is committed or aborted. */
export interface ImageUpload {
  sink: Writable;
  /** Makes the bytes readable under the id given to `begin`. */
  commit(): Promise<void>;
  /** Drops whatever was written (safe after a failed write or a commit). */
  abort(): Promise<void>;
}

/**
 * The bytes of firmware images: files in the node's data directory in single-process mode
 * (gateway/firmware/file-images.ts), chunks in PostgreSQL in cluster mode, so that any node
 * serves any download (pg/pg-firmware-artifacts.ts).
 */
export interface FirmwareImageStore {
  begin(id: string): Promise<ImageUpload>;
  /** Bytes `start` to `end` (inclusive) of an image stored whole. */
  read(id: string, start: number, end: number): Readable;
  delete(id: string): Promise<void>;
}

export interface ArtifactRow {
  id: string;
  model: string;
  version: string;
  from_versions: string;
  sha256: string;
  size: number;
  name: string | null;
  created_at: number;
  created_by: string;
}

export const artifactFromRow = (r: ArtifactRow): FirmwareArtifact => ({
  id: r.id,
  model: r.model,
  version: r.version,
  fromVersions: JSON.parse(r.from_versions),
  sha256: r.sha256,
  size: r.size,
  name: r.name,
  createdAt: r.created_at,
  createdBy: r.created_by,
});

/** The insert's parameters, in the column order both stores' INSERTs name. */
export const artifactParams = (a: FirmwareArtifact) => [
  a.id,
  a.model,
  a.version,
  JSON.stringify(a.fromVersions),
  a.sha256,
  a.size,
  a.name,
  a.createdAt,
  a.createdBy,
];

export class SqliteFirmwareArtifactStore implements FirmwareArtifactStore {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  async create(a: FirmwareArtifact): Promise<void> {
    this.#db
      .prepare(
        `INSERT INTO firmware_artifacts (id, model, version, from_versions, sha256, size, name, created_at, created_by)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(...artifactParams(a));
  }

  async get(id: string): Promise<FirmwareArtifact | undefined> {
    const r = this.#db.prepare('SELECT * FROM firmware_artifacts WHERE id = ?').get(id) as
      | ArtifactRow
      | undefined;
    return r && artifactFromRow(r);
  }

  async byModelVersion(model: string, version: string): Promise<FirmwareArtifact | undefined> {
    const r = this.#db
      .prepare('SELECT * FROM firmware_artifacts WHERE model = ? AND version = ?')
      .get(model, version) as ArtifactRow | undefined;
    return r && artifactFromRow(r);
  }

  async list(filter: { model?: string } = {}): Promise<FirmwareArtifact[]> {
    const rows = filter.model
      ? this.#db
          .prepare('SELECT * FROM firmware_artifacts WHERE model = ? ORDER BY created_at, id')
          .all(filter.model)
      : this.#db.prepare('SELECT * FROM firmware_artifacts ORDER BY created_at, id').all();
    return (rows as ArtifactRow[]).map(artifactFromRow);
  }

  async delete(id: string): Promise<boolean> {
    return this.#db.prepare('DELETE FROM firmware_artifacts WHERE id = ?').run(id).changes > 0;
  }
}
