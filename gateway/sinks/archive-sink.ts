import { mkdirSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { LineBatch, Sink } from './sink.ts';

/**
 * With no InfluxDB configured: a line-protocol archive, one file per UTC day, fsynced before the
 * outbox lets go of a batch. Load it later with `influx write --precision ms --file …`.
 */
export class ArchiveSink implements Sink {
  readonly name = 'archive';
  readonly dir: string;
  readonly #now: () => number;

  constructor(dir: string, now: () => number) {
    this.dir = dir;
    this.#now = now;
    mkdirSync(dir, { recursive: true });
  }

  fileFor(at: number): string {
    return join(this.dir, `${new Date(at).toISOString().slice(0, 10)}.lp`);
  }

  async write(batch: LineBatch): Promise<void> {
    const fh = await open(this.fileFor(this.#now()), 'a');
    try {
      await fh.writeFile(`${batch.text}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  async close(): Promise<void> {}
}
