import type { Calendar, Group, Program } from '../gateway/lighting/program.ts';
import type { Db } from './db.ts';

/** An operator's manual level for some lamps, holding until `until` (or an earlier end). */
export interface LightingOverride {
  id: string;
  group: Group;
  /** Lamps the override covered when it was made: the program resumes for exactly these. */
  deviceIds: string[];
  level: number;
  reason: string;
  createdAt: number;
  createdBy: string;
  until: number;
  /** How it ends: at `until` set from a duration, or at the next program step. */
  mode: 'duration' | 'next_step';
  endedAt: number | null;
  endedBy: string | null;
}

/** The last step a lighting unit (one group, program and position cell) executed on a night. */
export interface ExecutedStep {
  night: string;
  unit: string;
  step: number;
  at: number;
  executedAt: number;
}

/**
 * Street-lighting state: programs, the calendar, the last step executed per unit (so a
 * restart neither replays nor skips) and operator overrides. A PostgreSQL store implements
 * the same (pg/pg-lighting.ts; test/lighting-store-contract.ts).
 */
export interface LightingStore {
  programs(): Promise<Array<Program & { updatedAt: number; updatedBy: string }>>;
  program(id: string): Promise<Program | undefined>;
  /** True when the program is new. */
  putProgram(p: Program, at: number, by: string): Promise<boolean>;
  deleteProgram(id: string): Promise<boolean>;
  calendar(): Promise<
    { calendar: Calendar; version: number; updatedAt: number; updatedBy: string } | undefined
  >;
  /** Saves the calendar as the next version; returns that version. */
  putCalendar(c: Calendar, at: number, by: string): Promise<number>;
  /** Programs and calendar in one transaction (the first start's defaults). */
  seed(programs: Program[], calendar: Calendar, at: number): Promise<boolean>;
  executed(night: string, unit: string): Promise<ExecutedStep | undefined>;
  /** Every step recorded for this night and later ones (the scheduler's memory at start). */
  executedFrom(night: string): Promise<ExecutedStep[]>;
  /** Records steps executed, in one transaction. */
  markExecuted(steps: readonly ExecutedStep[]): Promise<void>;
  /** Forgets nights before this one. */
  pruneExecuted(beforeNight: string): Promise<number>;
  createOverride(o: LightingOverride): Promise<void>;
  override(id: string): Promise<LightingOverride | undefined>;
  /** Overrides not ended yet. */
  activeOverrides(): Promise<LightingOverride[]>;
  recentOverrides(limit: number): Promise<LightingOverride[]>;
  endOverride(id: string, at: number, by: string): Promise<boolean>;
}

export interface OverrideRow {
  id: string;
  body: string;
  level: number;
  reason: string;
  created_at: number;
  created_by: string;
  until: number;
  mode: LightingOverride['mode'];
  ended_at: number | null;
  ended_by: string | null;
}

export const overrideOf = (r: OverrideRow): LightingOverride => {
  const body = JSON.parse(r.body) as { group: Group; deviceIds: string[] };
  return {
    id: r.id,
    group: body.group,
    deviceIds: body.deviceIds,
    level: r.level,
    reason: r.reason,
    createdAt: r.created_at,
    createdBy: r.created_by,
    until: r.until,
    mode: r.mode,
    endedAt: r.ended_at,
    endedBy: r.ended_by,
  };
};

/** An override's insert parameters, in the column order both stores' INSERTs name. */
export const overrideParams = (o: LightingOverride) => [
  o.id,
  JSON.stringify({ group: o.group, deviceIds: o.deviceIds }),
  o.level,
  o.reason,
  o.createdAt,
  o.createdBy,
  o.until,
  o.mode,
];

/** A lighting_programs row, and the program it holds with who changed it last. */
export interface ProgramRow {
  body: string;
  updated_at: number;
  updated_by: string;
}
export const programOf = (r: ProgramRow) => ({
  ...(JSON.parse(r.body) as Program),
  updatedAt: r.updated_at,
  updatedBy: r.updated_by,
});

/** A lighting_calendar row, and the calendar version it holds. */
export interface CalendarRow {
  body: string;
  version: number;
  updated_at: number;
  updated_by: string;
}
export const calendarOf = (r: CalendarRow) => ({
  calendar: JSON.parse(r.body) as Calendar,
  version: r.version,
  updatedAt: r.updated_at,
  updatedBy: r.updated_by,
});

export interface ExecutedRow {
  night: string;
  unit: string;
  step: number;
  at: number;
  executed_at: number;
}

export const executedOf = (r: ExecutedRow): ExecutedStep => ({
  night: r.night,
  unit: r.unit,
  step: r.step,
  at: r.at,
  executedAt: r.executed_at,
});

export class SqliteLightingStore implements LightingStore {
  readonly #db: Db;
  readonly #s;

  constructor(db: Db) {
    this.#db = db;
    this.#s = {
      programs: db.prepare('SELECT body, updated_at, updated_by FROM lighting_programs ORDER BY id'),
      program: db.prepare('SELECT body FROM lighting_programs WHERE id = ?'),
      putProgram: db.prepare(
        `INSERT INTO lighting_programs (id, body, updated_at, updated_by) VALUES (?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
      ),
      deleteProgram: db.prepare('DELETE FROM lighting_programs WHERE id = ?'),
      calendar: db.prepare(
        'SELECT body, version, updated_at, updated_by FROM lighting_calendar ORDER BY version DESC LIMIT 1',
      ),
      putCalendar: db.prepare(
        'INSERT INTO lighting_calendar (version, body, updated_at, updated_by) VALUES (?, ?, ?, ?)',
      ),
      executed: db.prepare(
        'SELECT night, unit, step, at, executed_at FROM lighting_executed WHERE night = ? AND unit = ?',
      ),
      markExecuted: db.prepare(
        `INSERT INTO lighting_executed (night, unit, step, at, executed_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (night, unit) DO UPDATE SET step = excluded.step, at = excluded.at, executed_at = excluded.executed_at`,
      ),
      executedFrom: db.prepare(
        'SELECT night, unit, step, at, executed_at FROM lighting_executed WHERE night >= ? ORDER BY night, unit',
      ),
      prune: db.prepare('DELETE FROM lighting_executed WHERE night < ?'),
      createOverride: db.prepare(
        `INSERT INTO lighting_overrides (id, body, level, reason, created_at, created_by, until, mode)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      override: db.prepare('SELECT * FROM lighting_overrides WHERE id = ?'),
      active: db.prepare('SELECT * FROM lighting_overrides WHERE ended_at IS NULL ORDER BY created_at'),
      recent: db.prepare('SELECT * FROM lighting_overrides ORDER BY created_at DESC LIMIT ?'),
      end: db.prepare(
        'UPDATE lighting_overrides SET ended_at = ?, ended_by = ? WHERE id = ? AND ended_at IS NULL',
      ),
    };
  }

  async programs() {
    return (this.#s.programs.all() as ProgramRow[]).map(programOf);
  }

  async program(id: string): Promise<Program | undefined> {
    return this.#program(id);
  }

  #program(id: string): Program | undefined {
    const r = this.#s.program.get(id) as { body: string } | undefined;
    return r && (JSON.parse(r.body) as Program);
  }

  async putProgram(p: Program, at: number, by: string): Promise<boolean> {
    return this.#putProgram(p, at, by);
  }

  #putProgram(p: Program, at: number, by: string): boolean {
    const existed = this.#s.program.get(p.id) !== undefined;
    this.#s.putProgram.run(p.id, JSON.stringify(p), at, by);
    return !existed;
  }

  async deleteProgram(id: string): Promise<boolean> {
    return this.#s.deleteProgram.run(id).changes > 0;
  }

  async calendar() {
    return this.#calendar();
  }

  #calendar() {
    const r = this.#s.calendar.get() as CalendarRow | undefined;
    return r && calendarOf(r);
  }

  async putCalendar(c: Calendar, at: number, by: string): Promise<number> {
    return this.#putCalendar(c, at, by);
  }

  #putCalendar(c: Calendar, at: number, by: string): number {
    const version = (this.#calendar()?.version ?? 0) + 1;
    this.#s.putCalendar.run(version, JSON.stringify(c), at, by);
    return version;
  }

  async seed(programs: Program[], calendar: Calendar, at: number): Promise<boolean> {
    return this.#db.transaction(() => {
      if (this.#calendar()) return false;
      for (const p of programs) if (!this.#program(p.id)) this.#putProgram(p, at, 'defaults');
      this.#putCalendar(calendar, at, 'defaults');
      return true;
    })();
  }

  async executed(night: string, unit: string): Promise<ExecutedStep | undefined> {
    const r = this.#s.executed.get(night, unit) as ExecutedRow | undefined;
    return r && executedOf(r);
  }

  async executedFrom(night: string): Promise<ExecutedStep[]> {
    return (this.#s.executedFrom.all(night) as ExecutedRow[]).map(executedOf);
  }

  async markExecuted(steps: readonly ExecutedStep[]): Promise<void> {
    this.#db.transaction(() => {
      for (const s of steps) this.#s.markExecuted.run(s.night, s.unit, s.step, s.at, s.executedAt);
    })();
  }

  async pruneExecuted(beforeNight: string): Promise<number> {
    return this.#s.prune.run(beforeNight).changes;
  }

  async createOverride(o: LightingOverride): Promise<void> {
    this.#s.createOverride.run(...overrideParams(o));
  }

  async override(id: string): Promise<LightingOverride | undefined> {
    const r = this.#s.override.get(id) as OverrideRow | undefined;
    return r && overrideOf(r);
  }

  async activeOverrides(): Promise<LightingOverride[]> {
    return (this.#s.active.all() as OverrideRow[]).map(overrideOf);
  }

  async recentOverrides(limit: number): Promise<LightingOverride[]> {
    return (this.#s.recent.all(limit) as OverrideRow[]).map(overrideOf);
  }

  async endOverride(id: string, at: number, by: string): Promise<boolean> {
    return this.#s.end.run(at, by, id).changes > 0;
  }
}
