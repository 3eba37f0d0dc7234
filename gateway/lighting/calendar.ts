import type { Device } from '../../device-registry/devices.ts';
import type { LocalDate } from './local-time.ts';
import { weekday } from './local-time.ts';
import type { Calendar, Group } from './program.ts';

export const DAY_TYPES = ['weekday', 'weekend', 'holiday'] as const;
export type DayType = (typeof DAY_TYPES)[number];

export function matches(g: Group, d: Device): boolean {
  return (
    (!g.district || d.district === g.district) &&
    (!g.ward || d.ward === g.ward) &&
    (!g.model || d.model === g.model) &&
    (!g.tag || d.tags.includes(g.tag)) &&
    (!g.ids || g.ids.includes(d.id))
  );
}

const within = (date: LocalDate, r: { from: LocalDate; to?: LocalDate }) =>
  date >= r.from && date <= (r.to ?? r.from);

export interface Resolved {
  assignment: string;
  program: string;
  dayType: DayType;
  /** The exception that chose the program, if one did. */
  exception: string | null;
}

/**
 * Which program a lamp runs on a night (named by its evening's date): the first assignment
 * whose group covers it (list narrow groups first, as firewall rules); then the first exception
 * for that night whose group covers it, else the day type's program: holiday,
 * weekend (Saturday and Sunday evenings), weekday; a missing holiday or weekend program falls
 * back to the weekday one. Null when no assignment covers the lamp: it is not under control.
 */
export class CalendarResolver {
  readonly #calendar: Calendar;

  constructor(calendar: Calendar) {
    this.#calendar = calendar;
  }

  get calendar(): Calendar {
    return this.#calendar;
  }

  assignmentOf(d: Device) {
    return this.#calendar.assignments.find((a) => matches(a.group, d));
  }

  dayType(night: LocalDate): { dayType: DayType; holiday: string | null } {
    const h = this.#calendar.holidays.find((r) => within(night, r));
    if (h) return { dayType: 'holiday', holiday: h.name };
    const wd = weekday(night);
    return { dayType: wd === 0 || wd === 6 ? 'weekend' : 'weekday', holiday: null };
  }

  resolve(d: Device, night: LocalDate): Resolved | null {
    const a = this.assignmentOf(d);
    if (!a) return null;
    const { dayType } = this.dayType(night);
    const exception = this.#calendar.exceptions.find(
      (e) => within(night, e) && (!e.group || matches(e.group, d)),
    );
    if (exception)
      return { assignment: a.id, program: exception.program, dayType, exception: exception.name };
    const program = a.programs[dayType] ?? a.programs.weekday;
    return { assignment: a.id, program, dayType, exception: null };
  }
}
