import { randomBytes } from 'node:crypto';
import type { Device } from '../../device-registry/devices.ts';
import type { ExecutedStep, LightingOverride, LightingStore } from '../../device-registry/lighting.ts';
import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import { CalendarResolver, matches } from './calendar.ts';
import { NoLampsError, OverrideNotFoundError } from './errors.ts';
import type { LampDispatcher } from './lamp-dispatcher.ts';
import { addDays, type LocalDate, nightOf, nightStart } from './local-time.ts';
import { buildNightUnits, type NightUnits, stepAt, type Unit } from './night-units.ts';
import type { Calendar, Group, Program } from './program.ts';
import type { SunCache } from './sun.ts';

export interface SchedulerDeps {
  clock: Clock;
  log: Logger;
  devices: { values(): IterableIterator<Device>; get(id: string): Device | undefined };
  store: LightingStore;
  sun: SunCache;
  dispatcher: LampDispatcher;
  /** Longest wait between two looks at the clock (a wall-clock jump is seen within it). */
  tickMs: number;
  /** The level the command service last asked of a lamp (its desired state), if any. */
  desiredLevel(deviceId: string): number | null;
  /** Whether a setDimming of this lamp is still queued or in flight. */
  commandOpen(deviceId: string): boolean | Promise<boolean>;
  /** Re-read programs, calendar and overrides before each look (a cluster: edits made on other nodes). */
  refreshEachLook?: boolean;
}

export const SCHEDULER_ACTOR = 'lighting-program';
/** Executed steps are stored this many nights back. */
const KEEP_NIGHTS = 7;
/** …and remembered this many (a clock set back further than this may replay a step). */
const MEMORY_NIGHTS = 2;
const EMPTY_CALENDAR: Calendar = {
  timeZone: 'Asia/Ho_Chi_Minh',
  holidays: [],
  assignments: [],
  exceptions: [],
};

/** What a lamp reports, as a level: off is 0 whatever its dimmer says. */
export function reportedLevel(d: Device): number | null {
  const s = d.reportedState;
  if (!s) return null;
  if (s.lamp_on === false) return 0;
  return typeof s.dim_percent === 'number' ? s.dim_percent : null;
}

/**
 * Runs the calendar: at each step's time (per unit: assignment, program, position cell) the
 * unit's lamps get the step's level through the dispatcher, and the step is recorded as
 * executed. Only the current step of a night is ever sent: after a restart or a clock jump
 * forward, steps passed meanwhile are not replayed, the one in force now is sent if it was not;
 * after a jump backwards nothing is re-sent until the program moves past the recorded step.
 * Operator overrides hold their lamps until they end; then the program's current level returns.
 */
export class LightingScheduler {
  readonly #d: SchedulerDeps;
  #resolver = new CalendarResolver(EMPTY_CALENDAR);
  /** What the programs and calendar were read as: a reload with nothing new keeps the plans. */
  #loaded = '';
  #programs = new Map<string, Program>();
  readonly #plans = new Map<LocalDate, NightUnits>();
  readonly #executed = new Map<string, number>();
  #overrides: LightingOverride[] = [];
  #overriddenBy = new Map<string, LightingOverride>();
  #timer: unknown = null;
  #running = false;
  #warnedBackwards = new Set<string>();
  readonly #joined = new Set<string>();
  /** Store writes of the ticks, in order; a tick does not wait for them. */
  #writes: Promise<void> = Promise.resolve();

  /** reload() before use. */
  constructor(deps: SchedulerDeps) {
    this.#d = deps;
  }

  /**
   * Re-reads programs, calendar and overrides (after an edit here or, in a cluster, on another
   * node); plans are rebuilt when next needed if the programs or the calendar changed.
   */
  async reload(): Promise<void> {
    const [stored, programs, overrides] = await Promise.all([
      this.#d.store.calendar(),
      this.#d.store.programs(),
      this.#d.store.activeOverrides(),
    ]);
    const loaded = JSON.stringify([stored?.version, programs]);
    if (loaded !== this.#loaded) {
      this.#loaded = loaded;
      this.#resolver = new CalendarResolver(stored?.calendar ?? EMPTY_CALENDAR);
      this.#programs = new Map(programs.map((p) => [p.id, p]));
      this.lampsChanged();
    }
    this.#overrides = overrides;
    this.#indexOverrides();
  }

  /** Lamps registered, enabled or disabled: plans are rebuilt when next needed. */
  lampsChanged(): void {
    this.#plans.clear();
  }

  /** A lamp registered or enabled: at the next look it gets the level in force, as a reconnect would. */
  lampJoined(deviceId: string): void {
    this.#plans.clear();
    this.#joined.add(deviceId);
  }

  get resolver(): CalendarResolver {
    return this.#resolver;
  }

  get sun(): SunCache {
    return this.#d.sun;
  }

  get programs(): ReadonlyMap<string, Program> {
    return this.#programs;
  }

  plan(night: LocalDate): NightUnits {
    let p = this.#plans.get(night);
    if (!p) {
      p = buildNightUnits(night, this.#d.devices.values(), this.#resolver, this.#programs, this.#d.sun);
      if (this.#plans.size >= 4) this.#plans.delete(this.#plans.keys().next().value!);
      this.#plans.set(night, p);
      for (const [id, reason] of p.failed)
        this.#d.log.warn({ deviceId: id, night, reason }, 'lamp cannot run its lighting program tonight');
    }
    return p;
  }

  /** Runs the calendar from the steps recorded as executed (by this node or the one before it). */
  async start(): Promise<void> {
    this.#executed.clear();
    for (const s of await this.#d.store.executedFrom(addDays(nightOf(this.#d.clock.now()), -MEMORY_NIGHTS)))
      this.#executed.set(`${s.night}|${s.unit}`, s.step);
    this.#running = true;
    this.tick();
  }

  stop(): void {
    this.#running = false;
    if (this.#timer !== null) this.#d.clock.clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** Read from memory: the recent nights were loaded at start, and only the running scheduler records steps. */
  #executedStep(night: LocalDate, unit: string): number {
    return this.#executed.get(`${night}|${unit}`) ?? -1;
  }

  #write(what: string, fn: () => Promise<unknown>): void {
    this.#writes = this.#writes.then(fn).then(
      () => {},
      (err) => this.#d.log.error({ err }, `lighting ${what} not stored`),
    );
  }

  /** Resolves once the writes of earlier ticks are stored. */
  flushed(): Promise<void> {
    return this.#writes;
  }

  /** Looks at the clock: ends due overrides, sends due steps, and sets the next look. */
  tick(): void {
    if (this.#timer !== null) this.#d.clock.clearTimeout(this.#timer);
    this.#timer = null;
    try {
      this.#tick();
    } catch (err) {
      this.#d.log.error({ err }, 'lighting tick failed');
    }
    if (this.#running) this.#timer = this.#d.clock.setTimeout(() => this.#look(), this.#nextLookIn());
  }

  #look(): void {
    if (!this.#d.refreshEachLook) {
      this.tick();
      return;
    }
    this.reload().then(
      () => {
        if (this.#running) this.tick();
      },
      (err) => {
        this.#d.log.error({ err }, 'lighting programs not re-read');
        if (this.#running) this.tick();
      },
    );
  }

  #tick(): void {
    const now = this.#d.clock.now();
    const night = nightOf(now);
    const levels = new Map<string, number>();
    const resumed = new Set<string>();
    for (const o of this.#overrides) {
      if (now < o.until) continue;
      this.#write('override end', () => this.#d.store.endOverride(o.id, now, SCHEDULER_ACTOR));
      for (const id of o.deviceIds) resumed.add(id);
      this.#d.log.info({ override: o.id }, 'lighting override ended; the program resumes');
    }
    if (resumed.size) {
      this.#overrides = this.#overrides.filter((o) => now < o.until);
      this.#indexOverrides();
    }
    const executed: ExecutedStep[] = [];
    // The previous night's last step first (a jump across noon must still switch lamps off),
    // then tonight's: a lamp in both hears only tonight's level.
    const previous = this.plan(addDays(night, -1));
    for (const unit of previous.units.values()) this.#due(unit, unit.steps.length - 1, now, levels, executed);
    for (const unit of this.plan(night).units.values())
      this.#due(unit, stepAt(unit.steps, now), now, levels, executed);
    for (const id of this.#joined) resumed.add(id);
    this.#joined.clear();
    for (const id of resumed) {
      if (levels.has(id) || this.#d.desiredLevel(id) === this.expectedLevel(id, now)?.level) continue;
      const level = this.expectedLevel(id, now)?.level;
      if (level !== undefined) levels.set(id, level);
    }
    if (levels.size) this.#d.dispatcher.enqueue(levels, SCHEDULER_ACTOR);
    if (executed.length) {
      this.#write('executed steps', async () => {
        await this.#d.store.markExecuted(executed);
        await this.#d.store.pruneExecuted(addDays(night, -KEEP_NIGHTS));
      });
      const oldest = addDays(night, -MEMORY_NIGHTS);
      for (const key of this.#executed.keys()) if (key < oldest) this.#executed.delete(key);
    }
  }

  #due(unit: Unit, index: number, now: number, levels: Map<string, number>, executed: ExecutedStep[]): void {
    if (index < 0) return;
    const done = this.#executedStep(unit.night, unit.key);
    if (index === done) return;
    if (index < done) {
      const key = `${unit.night}|${unit.key}`;
      if (!this.#warnedBackwards.has(key))
        this.#d.log.warn(
          { unit: unit.key, night: unit.night, index, done },
          'clock went backwards: no step is replayed',
        );
      this.#warnedBackwards.add(key);
      return;
    }
    const step = unit.steps[index];
    let held = 0;
    for (const id of unit.lamps) {
      if (this.#overriddenBy.has(id)) held++;
      else levels.set(id, step.level);
    }
    this.#d.log.info(
      {
        unit: unit.key,
        night: unit.night,
        step: step.label,
        level: step.level,
        lamps: unit.lamps.length - held,
        held,
      },
      'lighting step',
    );
    executed.push({ night: unit.night, unit: unit.key, step: index, at: step.at, executedAt: now });
    this.#executed.set(`${unit.night}|${unit.key}`, index);
  }

  /** Wait until the next step or override end, at most tickMs. */
  #nextLookIn(): number {
    const now = this.#d.clock.now();
    let next = Math.min(now + this.#d.tickMs, nightStart(addDays(nightOf(now), 1)));
    for (const unit of this.plan(nightOf(now)).units.values()) {
      const s = unit.steps[stepAt(unit.steps, now) + 1];
      if (s && s.at < next) next = s.at;
    }
    for (const o of this.#overrides) if (o.until < next) next = o.until;
    return Math.max(0, next - now);
  }

  #indexOverrides(): void {
    this.#overriddenBy = new Map();
    for (const o of this.#overrides) for (const id of o.deviceIds) this.#overriddenBy.set(id, o);
  }

  /** The level a lamp should have now, and why; null when no program covers it. */
  expectedLevel(
    deviceId: string,
    now = this.#d.clock.now(),
  ): {
    level: number;
    source: 'override' | 'program';
    unit: Unit | null;
    step: string | null;
    override: string | null;
  } | null {
    const o = this.#overriddenBy.get(deviceId);
    const night = nightOf(now);
    const unit = this.plan(night).unitOf.get(deviceId) ?? null;
    if (o && now < o.until) return { level: o.level, source: 'override', unit, step: null, override: o.id };
    const i = unit ? stepAt(unit.steps, now) : -1;
    if (unit && i >= 0)
      return {
        level: unit.steps[i].level,
        source: 'program',
        unit,
        step: unit.steps[i].label,
        override: null,
      };
    const prev = this.plan(addDays(night, -1)).unitOf.get(deviceId);
    if (prev) {
      const last = prev.steps[prev.steps.length - 1];
      return {
        level: last.level,
        source: 'program',
        unit: unit ?? prev,
        step: `${last.label} (${prev.night})`,
        override: null,
      };
    }
    return unit ? { level: 0, source: 'program', unit, step: null, override: null } : null;
  }

  /** Lamps whose asked-for or reported level is not the one they should have now get it again. */
  async reconcile(now = this.#d.clock.now()): Promise<{ checked: number; sent: number }> {
    const levels = new Map<string, number>();
    let checked = 0;
    for (const id of this.plan(nightOf(now)).unitOf.keys()) {
      const exp = this.expectedLevel(id, now);
      if (!exp) continue;
      checked++;
      const desired = this.#d.desiredLevel(id);
      const device = this.#d.devices.get(id);
      const reported = device ? reportedLevel(device) : null;
      if (desired !== exp.level) levels.set(id, exp.level);
      else if (
        device?.online &&
        reported !== null &&
        reported !== exp.level &&
        !(await this.#d.commandOpen(id))
      )
        levels.set(id, exp.level);
    }
    if (levels.size) this.#d.dispatcher.enqueue(levels, 'lighting-reconciler');
    this.#d.log.info({ checked, sent: levels.size }, 'lighting reconciled');
    return { checked, sent: levels.size };
  }

  // ---- overrides

  get overrides(): readonly LightingOverride[] {
    return this.#overrides;
  }

  async override(
    req: { group: Group; level: number; minutes?: number; reason: string },
    actor: string,
  ): Promise<LightingOverride> {
    const now = this.#d.clock.now();
    const night = this.plan(nightOf(now));
    const lamps = [...night.unitOf.entries()].filter(([id]) => {
      const d = this.#d.devices.get(id);
      return d && matches(req.group, d);
    });
    if (lamps.length === 0) throw new NoLampsError(JSON.stringify(req.group));
    let until: number;
    if (req.minutes !== undefined) until = now + req.minutes * 60_000;
    else {
      // Until the next step of any of its lamps (tonight's, else tomorrow evening's first).
      until = Number.POSITIVE_INFINITY;
      const tomorrow = this.plan(addDays(nightOf(now), 1));
      for (const [id, unit] of lamps) {
        const next = unit.steps[stepAt(unit.steps, now) + 1] ?? tomorrow.unitOf.get(id)?.steps[0];
        if (next && next.at < until) until = next.at;
      }
      if (!Number.isFinite(until)) until = now + 24 * 3600_000;
    }
    const o: LightingOverride = {
      id: `lov_${now.toString(36)}${randomBytes(4).toString('hex')}`,
      group: req.group,
      deviceIds: lamps.map(([id]) => id),
      level: req.level,
      reason: req.reason,
      createdAt: now,
      createdBy: actor,
      until,
      mode: req.minutes !== undefined ? 'duration' : 'next_step',
      endedAt: null,
      endedBy: null,
    };
    await this.#d.store.createOverride(o);
    this.#overrides.push(o);
    this.#indexOverrides();
    this.#d.dispatcher.enqueue(new Map(o.deviceIds.map((id) => [id, o.level])), actor);
    if (this.#running) this.tick();
    return o;
  }

  async endOverride(id: string, actor: string): Promise<LightingOverride> {
    const now = this.#d.clock.now();
    if (!(await this.#d.store.endOverride(id, now, actor))) throw new OverrideNotFoundError(id);
    const ended = this.#overrides.find((o) => o.id === id);
    this.#overrides = this.#overrides.filter((o) => o.id !== id);
    this.#indexOverrides();
    const levels = new Map<string, number>();
    for (const lamp of ended?.deviceIds ?? []) {
      const level = this.expectedLevel(lamp, now)?.level;
      if (level !== undefined) levels.set(lamp, level);
    }
    this.#d.dispatcher.enqueue(levels, SCHEDULER_ACTOR);
    return (await this.#d.store.override(id))!;
  }
}
