import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { FirmwareImageStore, ImageUpload } from '../../device-registry/firmware-artifacts.ts';

/**
 * Single-process mode: images as `<data>/firmware/<id>.bin` (the id is ours, random; nothing
 * a client sends becomes part of a path). An upload goes to a temporary file, renamed on commit.
 */
export class FileImageStore implements FirmwareImageStore {
  readonly #dir: string;

  constructor(dataDir: string) {
    this.#dir = join(dataDir, 'firmware');
    mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
  }

  #file(id: string): string {
    return join(this.#dir, `${id}.bin`);
  }

  async begin(id: string): Promise<ImageUpload> {
    const tmp = join(this.#dir, `.upload-${randomBytes(8).toString('hex')}`);
    const sink = createWriteStream(tmp, { mode: 0o600, flags: 'wx' });
    return {
      sink,
      commit: async () => renameSync(tmp, this.#file(id)),
      abort: async () => {
        sink.destroy();
        rmSync(tmp, { force: true });
      },
    };
  }

  read(id: string, start: number, end: number): Readable {
    return createReadStream(this.#file(id), { start, end });
  }

  async delete(id: string): Promise<void> {
    rmSync(this.#file(id), { force: true });
  }
}
