import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { AuditStore } from '../../device-registry/audit.ts';
import type {
  FirmwareArtifact,
  FirmwareArtifactStore,
  FirmwareImageStore,
} from '../../device-registry/firmware-artifacts.ts';
import { findCommand, findFirmware, type ModelSpec } from '../../firmware-specs/define-device.ts';
import type { Clock } from '../clock.ts';
import {
  ArtifactEmptyError,
  ArtifactExistsError,
  ArtifactInUseError,
  ArtifactInvalidError,
  ArtifactNotFoundError,
  ArtifactTooLargeError,
  ChecksumMismatchError,
} from './errors.ts';

export interface ArtifactUpload {
  model: string;
  version: string;
  fromVersions: string[];
  sha256: string;
  name?: string;
}

/** Thrown inside the pipeline when the body passes the bound; the route answers 413. */
class TooLarge extends Error {}

/**
 * Firmware images: bytes in the image store (files in the data directory, or PostgreSQL in a
 * cluster), metadata in the artifact store. An upload is streamed into the image store while
 * it is hashed and counted, and kept only when its size and sha256 are right.
 */
export class ArtifactService {
  readonly #store: FirmwareArtifactStore;
  readonly #images: FirmwareImageStore;
  readonly #maxBytes: number;
  readonly #specs: ReadonlyMap<string, ModelSpec>;
  readonly #audit: AuditStore;
  readonly #clock: Clock;
  /** Which campaign that has not ended uses an artifact (set by the campaigns module). */
  inUseBy: (artifactId: string) => Promise<string | undefined> = async () => undefined;

  constructor(opts: {
    store: FirmwareArtifactStore;
    images: FirmwareImageStore;
    maxBytes: number;
    specs: ReadonlyMap<string, ModelSpec>;
    audit: AuditStore;
    clock: Clock;
  }) {
    this.#store = opts.store;
    this.#images = opts.images;
    this.#maxBytes = opts.maxBytes;
    this.#specs = opts.specs;
    this.#audit = opts.audit;
    this.#clock = opts.clock;
  }

  get maxBytes(): number {
    return this.#maxBytes;
  }

  get store(): FirmwareArtifactStore {
    return this.#store;
  }

  /** Bytes `start` to `end` (inclusive) of an artifact's image; the id was checked against the store first. */
  read(a: FirmwareArtifact, start = 0, end = a.size - 1): Readable {
    return this.#images.read(a.id, start, end);
  }

  async require(id: string): Promise<FirmwareArtifact> {
    const a = await this.#store.get(id);
    if (!a) throw new ArtifactNotFoundError(id);
    return a;
  }

  /** Checks what can be checked before reading a byte of the body. */
  async precheck(meta: ArtifactUpload, declaredBytes: number | undefined): Promise<ModelSpec> {
    if (declaredBytes !== undefined && declaredBytes > this.#maxBytes)
      throw new ArtifactTooLargeError(this.#maxBytes);
    const spec = this.#specs.get(meta.model);
    if (!spec) throw new ArtifactInvalidError(`querystring.model: model ${meta.model} is not loaded`);
    if (!findCommand(spec, 'otaUpdate'))
      throw new ArtifactInvalidError(`querystring.model: model ${meta.model} has no otaUpdate command`);
    if (!findFirmware(spec, meta.version))
      throw new ArtifactInvalidError(
        `querystring.version: model ${meta.model} has no firmware spec for ${meta.version} (it has ${Object.keys(spec.firmware).join(', ')}): its payloads could not be read`,
      );
    const existing = await this.#store.byModelVersion(meta.model, meta.version);
    if (existing) throw new ArtifactExistsError(meta.model, meta.version, existing.id);
    return spec;
  }

  async upload(
    body: Readable,
    meta: ArtifactUpload,
    actor: string,
    declaredBytes?: number,
  ): Promise<FirmwareArtifact> {
    await this.precheck(meta, declaredBytes);
    const id = `fw_${randomBytes(9).toString('hex')}`;
    const image = await this.#images.begin(id);
    const hash = createHash('sha256');
    let size = 0;
    let committed = false;
    const max = this.#maxBytes;
    try {
      await pipeline(
        body,
        async function* (source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            size += chunk.length;
            if (size > max) throw new TooLarge();
            hash.update(chunk);
            yield chunk;
          }
        },
        image.sink,
      );
      if (size === 0) throw new ArtifactEmptyError();
      const sha256 = hash.digest('hex');
      if (sha256 !== meta.sha256) throw new ChecksumMismatchError(sha256, meta.sha256);
      // Checked again: another upload of the same version may have finished meanwhile.
      await this.precheck(meta, undefined);
      const artifact: FirmwareArtifact = {
        id,
        model: meta.model,
        version: meta.version,
        fromVersions: meta.fromVersions,
        sha256,
        size,
        name: meta.name ?? null,
        createdAt: this.#clock.now(),
        createdBy: actor,
      };
      await image.commit();
      committed = true;
      // A second upload of the version on another node loses here (unique model and version).
      await this.#store.create(artifact);
      this.#audit.record(artifact.createdAt, actor, 'firmware.add', artifact.id, {
        model: artifact.model,
        version: artifact.version,
        from: artifact.fromVersions,
        sha256,
        size,
      });
      return artifact;
    } catch (err) {
      if (committed) await this.#images.delete(id).catch(() => {});
      else await image.abort().catch(() => {});
      if (err instanceof TooLarge) throw new ArtifactTooLargeError(max);
      throw err;
    }
  }

  async delete(id: string, actor: string): Promise<void> {
    const a = await this.require(id);
    const campaign = await this.inUseBy(id);
    if (campaign) throw new ArtifactInUseError(id, campaign);
    await this.#store.delete(id);
    await this.#images.delete(a.id);
    this.#audit.record(this.#clock.now(), actor, 'firmware.delete', id, {
      model: a.model,
      version: a.version,
    });
  }
}
