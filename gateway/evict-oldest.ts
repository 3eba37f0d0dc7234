import type Database from 'better-sqlite3';

/**
 * The id up to which the oldest rows must go to free at least `excess` bytes: just enough of
 * them. `oldest` selects `id, bytes` in id order (the quarantine's and the dead letters' caps).
 */
export function evictionCutoff(oldest: Database.Statement, excess: number): number {
  let freed = 0;
  let upTo = 0;
  for (const r of oldest.iterate() as IterableIterator<{ id: number; bytes: number }>) {
    freed += r.bytes;
    upTo = r.id;
    if (freed >= excess) break;
  }
  return upTo;
}
