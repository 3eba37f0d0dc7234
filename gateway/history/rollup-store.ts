import Database from 'better-sqlite3';

/** One device's field over one minute (minute = epoch ms / 60,000, floored). */
export interface MinuteRow {
  deviceId: string;
  field: string;
  minute: number;
  min: number;
  max: number;
  sum: number;
  count: number;
  last: number;
  /** Epoch ms of the reading that gave `last`. */
  lastTs: number;
}

export type MinuteAggregate = Omit<MinuteRow, 'deviceId' | 'field'>;

/**
 * Storage of 1-minute rollups. Asynchronous so that a PostgreSQL implementation (issue 11) can
 * follow; the SQLite one answers synchronously inside its promises.
 */
export interface RollupStore {
  /** Merges rows into what is stored: a minute may come twice (late readings, a retried flush). */
  merge(rows: readonly MinuteRow[]): Promise<void>;
  /** A device's field, minutes in [fromMinute, toMinute). */
  minutes(deviceId: string, field: string, fromMinute: number, toMinute: number): Promise<MinuteAggregate[]>;
  /** Sum and count of a field over devices, minutes in [fromMinute, toMinute). */
  totals(
    deviceIds: readonly string[],
    field: string,
    fromMinute: number,
    toMinute: number,
  ): Promise<{ sum: number; count: number }>;
  /** Deletes minutes before `beforeMinute` of at most `maxSeries` series (bounded work per call). */
  prune(beforeMinute: number, maxSeries: number): Promise<number>;
  close(): void;
}

const IN_CHUNK = 500;

/**
 * The embedded rollup store: its own SQLite file (rollup.db). A series (device, field) gets an
 * integer id once, so a minute row is a few numbers under a (series, minute) primary key: a
 * device's day is one short range scan.
 */
export class SqliteRollupStore implements RollupStore {
  readonly #db: Database.Database;
  readonly #series = new Map<string, number>();
  readonly #findSeries;
  readonly #addSeries;
  readonly #upsert;
  readonly #select;
  readonly #pruneOne;
  readonly #nextSeries;
  readonly #totals = new Map<number, Database.Statement>();
  #pruneCursor = 0;

  constructor(file: string) {
    this.#db = new Database(file);
    this.#db.pragma('journal_mode = WAL');
    // Rollups are derived data (InfluxDB or the archive hold the readings): a power cut may lose
    // the last flush, which costs no reading; NORMAL spares an fsync per flush.
    this.#db.pragma('synchronous = NORMAL');
    // A minute's flush touches the last page of every series: with 10,000 devices that is tens of
    // thousands of pages, far past SQLite's default 2 MiB cache.
    this.#db.pragma('cache_size = -65536');
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS series (id INTEGER PRIMARY KEY, device_id TEXT NOT NULL, field TEXT NOT NULL,
        UNIQUE (device_id, field));
      CREATE TABLE IF NOT EXISTS minutes (series INTEGER NOT NULL, minute INTEGER NOT NULL,
        min REAL NOT NULL, max REAL NOT NULL, sum REAL NOT NULL, count INTEGER NOT NULL,
        last REAL NOT NULL, last_ts INTEGER NOT NULL, PRIMARY KEY (series, minute)) WITHOUT ROWID;`);
    this.#findSeries = this.#db.prepare('SELECT id FROM series WHERE device_id = ? AND field = ?').pluck();
    this.#addSeries = this.#db.prepare('INSERT INTO series (device_id, field) VALUES (?, ?)');
    this.#upsert = this.#db.prepare(`
      INSERT INTO minutes (series, minute, min, max, sum, count, last, last_ts)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (series, minute) DO UPDATE SET
        min = min(min, excluded.min), max = max(max, excluded.max),
        sum = sum + excluded.sum, count = count + excluded.count,
        last = CASE WHEN excluded.last_ts >= last_ts THEN excluded.last ELSE last END,
        last_ts = max(last_ts, excluded.last_ts)`);
    this.#select = this.#db.prepare(
      `SELECT minute, min, max, sum, count, last, last_ts AS lastTs FROM minutes
       WHERE series = ? AND minute >= ? AND minute < ? ORDER BY minute`,
    );
    this.#pruneOne = this.#db.prepare('DELETE FROM minutes WHERE series = ? AND minute < ?');
    this.#nextSeries = this.#db.prepare('SELECT id FROM series WHERE id > ? ORDER BY id LIMIT ?').pluck();
  }

  #seriesId(deviceId: string, field: string, create: boolean): number | undefined {
    const key = `${deviceId}\u0000${field}`;
    let id = this.#series.get(key);
    if (id === undefined) {
      id = this.#findSeries.get(deviceId, field) as number | undefined;
      if (id === undefined && create) id = Number(this.#addSeries.run(deviceId, field).lastInsertRowid);
      if (id !== undefined) this.#series.set(key, id);
    }
    return id;
  }

  /** One transaction per flush, not one write per reading. */
  readonly #mergeAll = (rows: readonly MinuteRow[]) => {
    for (const r of rows)
      this.#upsert.run(
        this.#seriesId(r.deviceId, r.field, true),
        r.minute,
        r.min,
        r.max,
        r.sum,
        r.count,
        r.last,
        r.lastTs,
      );
  };

  async merge(rows: readonly MinuteRow[]): Promise<void> {
    if (rows.length) this.#db.transaction(this.#mergeAll)(rows);
  }

  async minutes(deviceId: string, field: string, fromMinute: number, toMinute: number) {
    const series = this.#seriesId(deviceId, field, false);
    if (series === undefined) return [];
    return this.#select.all(series, fromMinute, toMinute) as MinuteAggregate[];
  }

  async totals(deviceIds: readonly string[], field: string, fromMinute: number, toMinute: number) {
    const ids = deviceIds.flatMap((d) => this.#seriesId(d, field, false) ?? []);
    let sum = 0;
    let count = 0;
    for (let i = 0; i < ids.length; i += IN_CHUNK) {
      const chunk = ids.slice(i, i + IN_CHUNK);
      const row = this.#totalsStatement(chunk.length).get(...chunk, fromMinute, toMinute) as {
        s: number | null;
        c: number | null;
      };
      sum += row.s ?? 0;
      count += row.c ?? 0;
    }
    return { sum, count };
  }

  #totalsStatement(n: number): Database.Statement {
    let stmt = this.#totals.get(n);
    if (!stmt) {
      stmt = this.#db.prepare(
        `SELECT sum(sum) AS s, sum(count) AS c FROM minutes
         WHERE series IN (${new Array(n).fill('?').join(',')}) AND minute >= ? AND minute < ?`,
      );
      this.#totals.set(n, stmt);
    }
    return stmt;
  }

  async prune(beforeMinute: number, maxSeries: number): Promise<number> {
    const ids = this.#nextSeries.all(this.#pruneCursor, maxSeries) as number[];
    // Round robin over the series: each call does a bounded share of the work.
    this.#pruneCursor = ids.length < maxSeries ? 0 : ids[ids.length - 1];
    let deleted = 0;
    this.#db.transaction(() => {
      for (const id of ids) deleted += this.#pruneOne.run(id, beforeMinute).changes;
    })();
    return deleted;
  }

  close(): void {
    this.#db.close();
  }
}
