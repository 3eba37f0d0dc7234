import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { AuditStore } from '../../device-registry/audit.ts';
import type { FirmwareArtifact, FirmwareArtifactStore } from '../../device-registry/firmware-artifacts.ts';
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
 * Firmware images: bytes in `<data>/firmware/<id>.bin` (the id is ours, random; nothing a client
 * sends becomes part of a path), metadata in the store. An upload is streamed to a temporary
 * file while it is hashed and counted, and kept only when its size and sha256 are right.
 */
export class ArtifactService {
  readonly #store: FirmwareArtifactStore;
  readonly #dir: string;
  readonly #maxBytes: number;
  readonly #specs: ReadonlyMap<string, ModelSpec>;
  readonly #audit: AuditStore;
  readonly #clock: Clock;
  /** Which campaign that has not ended uses an artifact (set by the campaigns module). */
  inUseBy: (artifactId: string) => string | undefined = () => undefined;

  constructor(opts: {
    store: FirmwareArtifactStore;
    dataDir: string;
    maxBytes: number;
    specs: ReadonlyMap<string, ModelSpec>;
    audit: AuditStore;
    clock: Clock;
  }) {
    this.#store = opts.store;
    this.#dir = join(opts.dataDir, 'firmware');
    this.#maxBytes = opts.maxBytes;
    this.#specs = opts.specs;
    this.#audit = opts.audit;
    this.#clock = opts.clock;
    mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
  }

  get maxBytes(): number {
    return this.#maxBytes;
  }

  get store(): FirmwareArtifactStore {
    return this.#store;
  }

  /** The file of an artifact; the id was checked against the store first. */
  fileOf(a: FirmwareArtifact): string {
    return join(this.#dir, `${a.id}.bin`);
  }

  require(id: string): FirmwareArtifact {
    const a = this.#store.get(id);
    if (!a) throw new ArtifactNotFoundError(id);
    return a;
  }

  /** Checks what can be checked before reading a byte of the body. */
  precheck(meta: ArtifactUpload, declaredBytes: number | undefined): ModelSpec {
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
    const existing = this.#store.byModelVersion(meta.model, meta.version);
    if (existing) throw new ArtifactExistsError(meta.model, meta.version, existing.id);
    return spec;
  }

  async upload(
    body: Readable,
    meta: ArtifactUpload,
    actor: string,
    declaredBytes?: number,
  ): Promise<FirmwareArtifact> {
    this.precheck(meta, declaredBytes);
    const tmp = join(this.#dir, `.upload-${randomBytes(8).toString('hex')}`);
    const hash = createHash('sha256');
    let size = 0;
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
        createWriteStream(tmp, { mode: 0o600, flags: 'wx' }),
      );
      if (size === 0) throw new ArtifactEmptyError();
      const sha256 = hash.digest('hex');
      if (sha256 !== meta.sha256) throw new ChecksumMismatchError(sha256, meta.sha256);
      // Checked again: another upload of the same version may have finished meanwhile.
      this.precheck(meta, undefined);
      const artifact: FirmwareArtifact = {
        id: `fw_${randomBytes(9).toString('hex')}`,
        model: meta.model,
        version: meta.version,
        fromVersions: meta.fromVersions,
        sha256,
        size,
        name: meta.name ?? null,
        createdAt: this.#clock.now(),
        createdBy: actor,
      };
      renameSync(tmp, this.fileOf(artifact));
      try {
        this.#store.create(artifact);
      } catch (err) {
        rmSync(this.fileOf(artifact), { force: true });
        throw err;
      }
      this.#audit.record(artifact.createdAt, actor, 'firmware.add', artifact.id, {
        model: artifact.model,
        version: artifact.version,
        from: artifact.fromVersions,
        sha256,
        size,
      });
      return artifact;
    } catch (err) {
      rmSync(tmp, { force: true });
      if (err instanceof TooLarge) throw new ArtifactTooLargeError(max);
      throw err;
    }
  }

  delete(id: string, actor: string): void {
    const a = this.require(id);
    const campaign = this.inUseBy(id);
    if (campaign) throw new ArtifactInUseError(id, campaign);
    this.#store.delete(id);
    rmSync(this.fileOf(a), { force: true });
    this.#audit.record(this.#clock.now(), actor, 'firmware.delete', id, {
      model: a.model,
      version: a.version,
    });
  }
}
