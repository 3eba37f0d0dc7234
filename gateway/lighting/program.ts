import { z } from 'zod';
import {
  addDays,
  CLOCK_PATTERN,
  clockMinutes,
  isRealDate,
  type LocalDate,
  localInstant,
  NIGHT_STARTS_AT_MINUTES,
} from './local-time.ts';
import { type NightSun, SUN_EVENTS } from './sun.ts';

/**
 * Control programs and calendars as data (TALQ's "control program" and "calendar"): zod schemas
 * for what the repository's defaults (firmware-specs/lighting/) and the API accept.
 */
const id = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'lower-case letters, digits and dashes, at most 64');
const level = z.number().int().min(0).max(100);
const localDateSchema = z.string().refine(isRealDate, 'a real date as YYYY-MM-DD');

export const stepSchema = z.union([
  z.object({ at: z.string().regex(CLOCK_PATTERN, 'a local clock time HH:MM'), level }).strict(),
  z
    .object({
      event: z.enum(SUN_EVENTS),
      /** Minutes after (positive) or before (negative) the event. */
      offsetMinutes: z.number().int().min(-180).max(180).default(0),
      level,
    })
    .strict(),
]);
export type Step = z.infer<typeof stepSchema>;

export const programSchema = z
  .object({
    id,
    name: z.string().trim().min(1).max(200),
    description: z.string().max(1000).optional(),
    steps: z.array(stepSchema).min(1).max(24),
  })
  .strict();
export type Program = z.infer<typeof programSchema>;

/** Which lamps a calendar entry covers; every given criterion must hold (as a bulk selector). */
export const groupSchema = z
  .object({
    district: z.string().min(1).max(100).optional(),
    ward: z.string().min(1).max(100).optional(),
    model: z.string().min(1).max(100).optional(),
    tag: z.string().min(1).max(100).optional(),
    ids: z.array(z.string().min(1).max(128)).min(1).max(10_000).optional(),
  })
  .strict();
export type Group = z.infer<typeof groupSchema>;

const range = { from: localDateSchema, to: localDateSchema.optional() };

export const calendarSchema = z
  .object({
    /** Fixed: the calendar's dates and clock times are Hanoi's (docs/design.md, "Street lighting"). */
    timeZone: z.literal('Asia/Ho_Chi_Minh').default('Asia/Ho_Chi_Minh'),
    /** Public holidays: nights whose evening falls in one run the entry's `holiday` program. */
    holidays: z
      .array(z.object({ name: z.string().min(1).max(200), ...range }).strict())
      .max(200)
      .default([]),
    assignments: z
      .array(
        z
          .object({
            id,
            group: groupSchema,
            programs: z.object({ weekday: id, weekend: id.optional(), holiday: id.optional() }).strict(),
          })
          .strict(),
      )
      .min(1)
      .max(1000),
    /** Special nights (a festival on Hoàn Kiếm lake): beat day types and holidays. */
    exceptions: z
      .array(
        z
          .object({ name: z.string().min(1).max(200), ...range, group: groupSchema.optional(), program: id })
          .strict(),
      )
      .max(1000)
      .default([]),
  })
  .strict()
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    c.assignments.forEach((a, i) => {
      if (seen.has(a.id))
        ctx.addIssue({ code: 'custom', path: ['assignments', i, 'id'], message: `duplicate id ${a.id}` });
      seen.add(a.id);
    });
    for (const [key, list] of [
      ['holidays', c.holidays],
      ['exceptions', c.exceptions],
    ] as const)
      list.forEach((r, i) => {
        if (r.to !== undefined && r.to < r.from)
          ctx.addIssue({
            code: 'custom',
            path: [key, i, 'to'],
            message: `ends (${r.to}) before it starts (${r.from})`,
          });
      });
  });
export type Calendar = z.infer<typeof calendarSchema>;

/** Program ids a calendar refers to, with where (for "in use" and "unknown program" errors). */
export function programRefs(c: Calendar): Array<{ program: string; where: string }> {
  const refs: Array<{ program: string; where: string }> = [];
  for (const a of c.assignments)
    for (const [dayType, p] of Object.entries(a.programs))
      if (p) refs.push({ program: p, where: `${a.id}.${dayType}` });
  for (const e of c.exceptions) refs.push({ program: e.program, where: `exception "${e.name}"` });
  return refs;
}

export interface PlannedStep {
  index: number;
  at: number;
  level: number;
  /** `sunset+5`, `22:30`: what the step was declared as. */
  label: string;
}

export function stepLabel(s: Step): string {
  if ('at' in s) return s.at;
  const o = s.offsetMinutes;
  return o === 0 ? s.event : `${s.event}${o > 0 ? '+' : '−'}${Math.abs(o)}`;
}

/**
 * A program's steps on one night, in time order. A clock time from 12:00 belongs to the
 * evening's date, one before 12:00 to the next morning; sunset and dusk are the evening's,
 * sunrise and dawn the next morning's. Indexes are positions in this order.
 */
export function planNight(
  program: Program,
  night: LocalDate,
  sun: NightSun | (() => NightSun),
): PlannedStep[] {
  let events: NightSun | undefined = typeof sun === 'function' ? undefined : sun;
  const timed = program.steps.map((s) => {
    if ('at' in s) {
      const m = clockMinutes(s.at);
      const date = m >= NIGHT_STARTS_AT_MINUTES ? night : addDays(night, 1);
      return { at: localInstant(date, m), level: s.level, label: stepLabel(s) };
    }
    events ??= (sun as () => NightSun)();
    return { at: events[s.event] + s.offsetMinutes * 60_000, level: s.level, label: stepLabel(s) };
  });
  return timed.sort((a, b) => a.at - b.at).map((s, index) => ({ ...s, index }));
}

/** Whether a program needs the sun (lamps without a position can run only clock-time programs). */
export const usesSun = (p: Program) => p.steps.some((s) => 'event' in s);
