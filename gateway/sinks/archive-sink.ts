import { chmodSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { LineBatch, Sink } from './sink.ts';

/**
 * With no InfluxDB configured: a line-protocol archive, one file per UTC day, fsynced before the
 * outbox lets go of a batch. Load it later with `influx write --precision ms --file …`.
 * Readable by the gateway's user only (0600 in a 0700 directory): readings are city data.
 */
export class ArchiveSink implements Sink {
  readonly name = 'archive';
  readonly dir: string;
  readonly #now: () => number;

  constructor(dir: string, now: () => number) {
    this.dir = dir;
    this.#now = now;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Files of an older start, made under the process umask, are tightened too.
    chmodSync(dir, 0o700);
    for (const name of readdirSync(dir)) {
      const file = join(dir, name);
      if (statSync(file).mode & 0o077) chmodSync(file, 0o600);
    }
  }

  fileFor(at: number): string {
    return join(this.dir, `${new Date(at).toISOString().slice(0, 10)}.lp`);
  }

  async write(batch: LineBatch): Promise<void> {
    const fh = await open(this.fileFor(this.#now()), 'a', 0o600);
    const size = (await fh.stat()).size;
    try {
      await fh.writeFile(`${batch.text}\n`);
      await fh.sync();
    } catch (err) {
      // A full disk can leave half a batch: cut it off, the outbox sends the whole batch again.
      await fh.truncate(size).catch(() => {});
      throw err;
    } finally {
      await fh.close();
    }
  }

  async close(): Promise<void> {}
}
