import type { Calendar, Program } from '../../gateway/lighting/program.ts';
import {
  type CalendarRow,
  calendarOf,
  type ExecutedRow,
  type ExecutedStep,
  executedOf,
  type LightingOverride,
  type LightingStore,
  type OverrideRow,
  overrideOf,
  overrideParams,
  type ProgramRow,
  programOf,
} from '../lighting.ts';
import { inTransaction, type PgPool, type PgQueryable } from './pg-db.ts';

/** The calendar is written by one node at a time: versions are numbered under this lock. */
const CALENDAR_LOCK = 'citygate:lighting_calendar';

async function latestCalendar(db: PgQueryable) {
  const { rows } = await db.query<CalendarRow>(
    'SELECT body, version, updated_at, updated_by FROM lighting_calendar ORDER BY version DESC LIMIT 1',
  );
  return rows[0] && calendarOf(rows[0]);
}

async function insertCalendar(db: PgQueryable, c: Calendar, at: number, by: string): Promise<number> {
  const { rows } = await db.query<{ version: number }>(
    `INSERT INTO lighting_calendar (version, body, updated_at, updated_by)
     SELECT COALESCE(MAX(version), 0) + 1, $1, $2, $3 FROM lighting_calendar RETURNING version`,
    [JSON.stringify(c), at, by],
  );
  return rows[0].version;
}

async function upsertProgram(db: PgQueryable, p: Program, at: number, by: string): Promise<boolean> {
  // xmax = 0 only on a row this statement inserted (not one it updated).
  const { rows } = await db.query<{ inserted: boolean }>(
    `INSERT INTO lighting_programs (id, body, updated_at, updated_by) VALUES ($1, $2, $3, $4)
     ON CONFLICT (id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at, updated_by = excluded.updated_by
     RETURNING (xmax = 0) AS inserted`,
    [p.id, JSON.stringify(p), at, by],
  );
  return rows[0].inserted;
}

/** Street-lighting programs, calendar versions, executed steps and overrides on PostgreSQL. */
export class PgLightingStore implements LightingStore {
  readonly #pool: PgPool;

  constructor(pool: PgPool) {
    this.#pool = pool;
  }

  async programs() {
    const { rows } = await this.#pool.query<ProgramRow>(
      'SELECT body, updated_at, updated_by FROM lighting_programs ORDER BY id',
    );
    return rows.map(programOf);
  }

  async program(id: string): Promise<Program | undefined> {
    const { rows } = await this.#pool.query<{ body: string }>(
      'SELECT body FROM lighting_programs WHERE id = $1',
      [id],
    );
    return rows[0] && (JSON.parse(rows[0].body) as Program);
  }

  async putProgram(p: Program, at: number, by: string): Promise<boolean> {
    return upsertProgram(this.#pool, p, at, by);
  }

  async deleteProgram(id: string): Promise<boolean> {
    const { rowCount } = await this.#pool.query('DELETE FROM lighting_programs WHERE id = $1', [id]);
    return (rowCount ?? 0) > 0;
  }

  async calendar() {
    return latestCalendar(this.#pool);
  }

  async putCalendar(c: Calendar, at: number, by: string): Promise<number> {
    return inTransaction(this.#pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [CALENDAR_LOCK]);
      return insertCalendar(client, c, at, by);
    });
  }

  async seed(programs: Program[], calendar: Calendar, at: number): Promise<boolean> {
    // Nodes starting together: one seeds, the others find the calendar there.
    return inTransaction(this.#pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [CALENDAR_LOCK]);
      if (await latestCalendar(client)) return false;
      for (const p of programs)
        await client.query(
          `INSERT INTO lighting_programs (id, body, updated_at, updated_by) VALUES ($1, $2, $3, 'defaults')
           ON CONFLICT (id) DO NOTHING`,
          [p.id, JSON.stringify(p), at],
        );
      await insertCalendar(client, calendar, at, 'defaults');
      return true;
    });
  }

  async executed(night: string, unit: string): Promise<ExecutedStep | undefined> {
    const { rows } = await this.#pool.query<ExecutedRow>(
      'SELECT night, unit, step, at, executed_at FROM lighting_executed WHERE night = $1 AND unit = $2',
      [night, unit],
    );
    return rows[0] && executedOf(rows[0]);
  }

  async executedFrom(night: string): Promise<ExecutedStep[]> {
    const { rows } = await this.#pool.query<ExecutedRow>(
      'SELECT night, unit, step, at, executed_at FROM lighting_executed WHERE night >= $1 ORDER BY night, unit',
      [night],
    );
    return rows.map(executedOf);
  }

  async markExecuted(steps: readonly ExecutedStep[]): Promise<void> {
    if (steps.length === 0) return;
    // One statement for a step to every unit (unnest: one array parameter per column).
    await this.#pool.query(
      `INSERT INTO lighting_executed (night, unit, step, at, executed_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::bigint[], $5::bigint[])
       ON CONFLICT (night, unit) DO UPDATE SET step = excluded.step, at = excluded.at, executed_at = excluded.executed_at`,
      [
        steps.map((s) => s.night),
        steps.map((s) => s.unit),
        steps.map((s) => s.step),
        steps.map((s) => s.at),
        steps.map((s) => s.executedAt),
      ],
    );
  }

  async pruneExecuted(beforeNight: string): Promise<number> {
    const { rowCount } = await this.#pool.query('DELETE FROM lighting_executed WHERE night < $1', [
      beforeNight,
    ]);
    return rowCount ?? 0;
  }

  async createOverride(o: LightingOverride): Promise<void> {
    await this.#pool.query(
      `INSERT INTO lighting_overrides (id, body, level, reason, created_at, created_by, until, mode)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      overrideParams(o),
    );
  }

  async override(id: string): Promise<LightingOverride | undefined> {
    const { rows } = await this.#pool.query<OverrideRow>('SELECT * FROM lighting_overrides WHERE id = $1', [
      id,
    ]);
    return rows[0] && overrideOf(rows[0]);
  }

  async activeOverrides(): Promise<LightingOverride[]> {
    const { rows } = await this.#pool.query<OverrideRow>(
      'SELECT * FROM lighting_overrides WHERE ended_at IS NULL ORDER BY created_at, id',
    );
    return rows.map(overrideOf);
  }

  async recentOverrides(limit: number): Promise<LightingOverride[]> {
    const { rows } = await this.#pool.query<OverrideRow>(
      'SELECT * FROM lighting_overrides ORDER BY created_at DESC, id DESC LIMIT $1',
      [limit],
    );
    return rows.map(overrideOf);
  }

  async endOverride(id: string, at: number, by: string): Promise<boolean> {
    const { rowCount } = await this.#pool.query(
      'UPDATE lighting_overrides SET ended_at = $1, ended_by = $2 WHERE id = $3 AND ended_at IS NULL',
      [at, by, id],
    );
    return (rowCount ?? 0) > 0;
  }
}
