import type { AuditStore } from '../../device-registry/audit.ts';
import type { Device, DeviceStore } from '../../device-registry/devices.ts';
import type { LightingOverride, LightingStore } from '../../device-registry/lighting.ts';
import { type Clock, isoTime } from '../clock.ts';
import { nightEnergy } from './energy.ts';
import {
  CalendarInvalidError,
  GroupNotFoundError,
  ProgramInUseError,
  ProgramNotFoundError,
  SchedulerOffError,
} from './errors.ts';
import { addDays, type LocalDate, localClock, nightOf, nightStart } from './local-time.ts';
import { REFERENCE_POSITION, stepAt } from './night-units.ts';
import { type Calendar, type Group, type Program, planNight, programRefs, usesSun } from './program.ts';
import type { LightingScheduler } from './scheduler.ts';
import { checkPosition, nightSun } from './sun.ts';

export interface LightingServiceDeps {
  store: LightingStore;
  scheduler: LightingScheduler;
  devices: DeviceStore;
  clock: Clock;
  audit: AuditStore;
  desiredLevel(id: string): number | null;
  reportedLevel(d: Device): number | null;
  enabled: boolean;
}

const stepView = (s: { index: number; at: number; level: number; label: string }) => ({
  index: s.index,
  label: s.label,
  level: s.level,
  at: isoTime(s.at),
  local: localClock(s.at),
});

/** What the API asks of lighting: programs and calendar edits, views, previews, energy, overrides. */
export class LightingService {
  readonly #d: LightingServiceDeps;

  constructor(deps: LightingServiceDeps) {
    this.#d = deps;
  }

  get enabled(): boolean {
    return this.#d.enabled;
  }

  now(): number {
    return this.#d.clock.now();
  }

  async programs() {
    return (await this.#d.store.programs()).map((p) => ({ ...p, updatedAt: isoTime(p.updatedAt) }));
  }

  async program(id: string): Promise<Program> {
    const p = await this.#d.store.program(id);
    if (!p) throw new ProgramNotFoundError(id);
    return p;
  }

  async putProgram(p: Program, actor: string): Promise<boolean> {
    const created = await this.#d.store.putProgram(p, this.now(), actor);
    this.#d.audit.record(this.now(), actor, 'lighting.program', p.id, { steps: p.steps });
    await this.#d.scheduler.reload();
    return created;
  }

  async deleteProgram(id: string, actor: string): Promise<void> {
    const used = programRefs((await this.calendar()).calendar).filter((r) => r.program === id);
    if (used.length) throw new ProgramInUseError(id, used.map((r) => r.where).join(', '));
    if (!(await this.#d.store.deleteProgram(id))) throw new ProgramNotFoundError(id);
    this.#d.audit.record(this.now(), actor, 'lighting.program.delete', id, {});
    await this.#d.scheduler.reload();
  }

  async calendar() {
    const c = await this.#d.store.calendar();
    if (!c) throw new CalendarInvalidError('no calendar stored');
    return c;
  }

  async putCalendar(c: Calendar, actor: string): Promise<number> {
    const known = new Set((await this.#d.store.programs()).map((p) => p.id));
    const missing = programRefs(c).filter((r) => !known.has(r.program));
    if (missing.length)
      throw new CalendarInvalidError(missing.map((m) => `${m.where}: no program ${m.program}`).join('; '));
    const version = await this.#d.store.putCalendar(c, this.now(), actor);
    this.#d.audit.record(this.now(), actor, 'lighting.calendar', String(version), {});
    await this.#d.scheduler.reload();
    return version;
  }

  /** Each assignment: its group, tonight's programs and their next steps (earliest and latest cell). */
  groups(now = this.now()) {
    const night = nightOf(now);
    const tonight = this.#d.scheduler.plan(night);
    const tomorrow = this.#d.scheduler.plan(addDays(night, 1));
    return this.#d.scheduler.resolver.calendar.assignments.map((a) => {
      const byProgram = new Map<
        string,
        {
          program: string;
          exception: string | null;
          dayType: string;
          lamps: number;
          cells: number;
          steps: Map<number, { index: number; label: string; level: number; first: number; last: number }>;
        }
      >();
      for (const unit of tonight.units.values()) {
        if (unit.assignment !== a.id) continue;
        const k = `${unit.program}|${unit.exception ?? ''}`;
        const e = byProgram.get(k) ?? {
          program: unit.program,
          exception: unit.exception,
          dayType: unit.dayType,
          lamps: 0,
          cells: 0,
          steps: new Map(),
        };
        e.lamps += unit.lamps.length;
        e.cells++;
        for (const s of unit.steps) {
          const v = e.steps.get(s.index) ?? {
            index: s.index,
            label: s.label,
            level: s.level,
            first: s.at,
            last: s.at,
          };
          v.first = Math.min(v.first, s.at);
          v.last = Math.max(v.last, s.at);
          e.steps.set(s.index, v);
        }
        byProgram.set(k, e);
      }
      const next: Array<{ program: string; label: string; level: number; at: string; latestAt: string }> = [];
      for (const plan of [tonight, tomorrow]) {
        const seen = new Map<
          string,
          { program: string; label: string; level: number; first: number; last: number }
        >();
        for (const unit of plan.units.values()) {
          if (unit.assignment !== a.id) continue;
          for (const s of unit.steps) {
            if (s.at <= now) continue;
            const k = `${unit.program}|${s.index}`;
            const v = seen.get(k) ?? {
              program: unit.program,
              label: s.label,
              level: s.level,
              first: s.at,
              last: s.at,
            };
            v.first = Math.min(v.first, s.at);
            v.last = Math.max(v.last, s.at);
            seen.set(k, v);
          }
        }
        for (const v of [...seen.values()].sort((x, y) => x.first - y.first))
          if (next.length < 6)
            next.push({
              program: v.program,
              label: v.label,
              level: v.level,
              at: isoTime(v.first),
              latestAt: isoTime(v.last),
            });
      }
      return {
        id: a.id,
        group: a.group,
        programs: a.programs,
        night,
        tonight: [...byProgram.values()].map((e) => ({
          program: e.program,
          exception: e.exception,
          dayType: e.dayType,
          lamps: e.lamps,
          cells: e.cells,
          steps: [...e.steps.values()].map((s) => ({
            index: s.index,
            label: s.label,
            level: s.level,
            at: isoTime(s.first),
            latestAt: isoTime(s.last),
            local: localClock(s.first),
          })),
        })),
        nextSteps: next,
      };
    });
  }

  group(id: string) {
    const g = this.groups().find((x) => x.id === id);
    if (!g) throw new GroupNotFoundError(id);
    return g;
  }

  /** Every controlled lamp: the level it should have now against what it was asked and reports. */
  lamps(q: { outOfStep?: boolean; district?: string; group?: string; limit: number; offset: number }) {
    const now = this.now();
    const plan = this.#d.scheduler.plan(nightOf(now));
    const rows = [];
    let total = 0;
    let outOfStep = 0;
    for (const [id, unit] of plan.unitOf) {
      const d = this.#d.devices.get(id);
      if (!d || (q.district && d.district !== q.district) || (q.group && unit.assignment !== q.group))
        continue;
      const exp = this.#d.scheduler.expectedLevel(id, now);
      if (!exp) continue;
      const reported = this.#d.reportedLevel(d);
      // The desired level is a registry read: only for lamps not in step, or listed.
      let desired: number | null | undefined;
      const desiredNow = () => {
        if (desired === undefined) desired = this.#d.desiredLevel(id);
        return desired;
      };
      const state =
        reported === exp.level
          ? 'in_step'
          : !d.online
            ? 'offline'
            : desiredNow() === exp.level
              ? 'pending'
              : 'out_of_step';
      if (state !== 'in_step') outOfStep++;
      if (q.outOfStep && state === 'in_step') continue;
      total++;
      if (total <= q.offset || rows.length >= q.limit) continue;
      desiredNow();
      rows.push({
        deviceId: id,
        district: d.district,
        ward: d.ward,
        online: d.online,
        group: unit.assignment,
        program: unit.program,
        expected: exp.level,
        because:
          exp.source === 'override' ? `override ${exp.override}` : (exp.step ?? 'before the first step'),
        desired,
        reported,
        reportedAt: isoTime(d.reportedAt),
        state,
      });
    }
    return {
      at: isoTime(now),
      night: plan.night,
      total,
      notInStep: outOfStep,
      failed: [...plan.failed].map(([deviceId, reason]) => ({ deviceId, reason })),
      lamps: rows,
    };
  }

  /** A program over one night at a position: its steps, the sun, and the level every `stepMinutes`. */
  async preview(q: {
    program?: string;
    group?: string;
    date?: LocalDate;
    lat?: number;
    lon?: number;
    stepMinutes: number;
  }) {
    const night = q.date ?? nightOf(this.now());
    let programId = q.program;
    let lat = q.lat;
    let lon = q.lon;
    if (q.group) {
      // The group's program that night, at the position of one of its lamps.
      const resolver = this.#d.scheduler.resolver;
      const a = resolver.calendar.assignments.find((x) => x.id === q.group);
      if (!a) throw new GroupNotFoundError(q.group);
      let sample: Device | undefined;
      for (const d of this.#d.devices.values())
        if (d.family === 'streetlight' && d.lat !== null && resolver.assignmentOf(d)?.id === a.id) {
          sample = d;
          break;
        }
      lat ??= sample?.lat ?? undefined;
      lon ??= sample?.lon ?? undefined;
      programId ??=
        (sample && resolver.resolve(sample, night)?.program) ??
        a.programs[resolver.dayType(night).dayType] ??
        a.programs.weekday;
    }
    lat ??= REFERENCE_POSITION.lat;
    lon ??= REFERENCE_POSITION.lon;
    checkPosition(lat, lon);
    const program = await this.program(programId ?? '');
    const sun = nightSun(night, lat, lon);
    const steps = planNight(program, night, sun);
    const from = nightStart(night);
    const samples = [];
    for (let t = from; t < nightStart(addDays(night, 1)); t += q.stepMinutes * 60_000) {
      const i = stepAt(steps, t);
      samples.push({ at: isoTime(t), level: i >= 0 ? steps[i].level : steps[steps.length - 1].level });
    }
    const { dayType, holiday } = this.#d.scheduler.resolver.dayType(night);
    return {
      night,
      dayType,
      holiday,
      program: program.id,
      usesSun: usesSun(program),
      position: { lat, lon },
      sun: Object.fromEntries(Object.entries(sun).map(([k, v]) => [k, isoTime(v)])),
      steps: steps.map(stepView),
      samples,
    };
  }

  energy(night?: LocalDate) {
    const n = night ?? nightOf(this.now());
    return nightEnergy(this.#d.scheduler.plan(n), this.#d.devices, this.#d.scheduler.sun);
  }

  async overrides() {
    return (await this.#d.store.recentOverrides(100)).map(overrideView);
  }

  async override(req: { group: Group; level: number; minutes?: number; reason: string }, actor: string) {
    // Without the scheduler nothing would end it: a plain bulk command says what it is.
    if (!this.#d.enabled) throw new SchedulerOffError('use a bulk setDimming command instead');
    const o = await this.#d.scheduler.override(req, actor);
    this.#d.audit.record(this.now(), actor, 'lighting.override', o.id, {
      group: o.group,
      level: o.level,
      lamps: o.deviceIds.length,
    });
    return overrideView(o);
  }

  async endOverride(id: string, actor: string) {
    const o = await this.#d.scheduler.endOverride(id, actor);
    this.#d.audit.record(this.now(), actor, 'lighting.override.end', id, {});
    return overrideView(o);
  }

  async reconcile() {
    if (!this.#d.enabled) throw new SchedulerOffError('nothing drives the lamps');
    return this.#d.scheduler.reconcile();
  }
}

export const overrideView = (o: LightingOverride) => ({
  id: o.id,
  group: o.group,
  lamps: o.deviceIds.length,
  level: o.level,
  reason: o.reason,
  mode: o.mode,
  createdAt: isoTime(o.createdAt),
  createdBy: o.createdBy,
  until: isoTime(o.until),
  endedAt: isoTime(o.endedAt),
  endedBy: o.endedBy,
});
