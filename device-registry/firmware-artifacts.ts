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

/** Artifact metadata; the bytes live in the data directory (gateway/firmware/artifact-files.ts). */
export interface FirmwareArtifactStore {
  create(a: FirmwareArtifact): void;
  get(id: string): FirmwareArtifact | undefined;
  byModelVersion(model: string, version: string): FirmwareArtifact | undefined;
  list(filter?: { model?: string }): FirmwareArtifact[];
  delete(id: string): boolean;
}

interface Row {
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

const fromRow = (r: Row): FirmwareArtifact => ({
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

export class SqliteFirmwareArtifactStore implements FirmwareArtifactStore {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  create(a: FirmwareArtifact): void {
    this.#db
      .prepare(
        `INSERT INTO firmware_artifacts (id, model, version, from_versions, sha256, size, name, created_at, created_by)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        a.id,
        a.model,
        a.version,
        JSON.stringify(a.fromVersions),
        a.sha256,
        a.size,
        a.name,
        a.createdAt,
        a.createdBy,
      );
  }

  get(id: string): FirmwareArtifact | undefined {
    const r = this.#db.prepare('SELECT * FROM firmware_artifacts WHERE id = ?').get(id) as Row | undefined;
    return r && fromRow(r);
  }

  byModelVersion(model: string, version: string): FirmwareArtifact | undefined {
    const r = this.#db
      .prepare('SELECT * FROM firmware_artifacts WHERE model = ? AND version = ?')
      .get(model, version) as Row | undefined;
    return r && fromRow(r);
  }

  list(filter: { model?: string } = {}): FirmwareArtifact[] {
    const rows = filter.model
      ? this.#db
          .prepare('SELECT * FROM firmware_artifacts WHERE model = ? ORDER BY created_at, id')
          .all(filter.model)
      : this.#db.prepare('SELECT * FROM firmware_artifacts ORDER BY created_at, id').all();
    return (rows as Row[]).map(fromRow);
  }

  delete(id: string): boolean {
    return this.#db.prepare('DELETE FROM firmware_artifacts WHERE id = ?').run(id).changes > 0;
  }
}
