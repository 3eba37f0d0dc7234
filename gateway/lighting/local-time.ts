/**
 * Local civil time of the lighting calendars: Asia/Ho_Chi_Minh.
 *
 * Vietnam has kept UTC+7 without daylight saving since 13 June 1975 (IANA tzdata,
 * zone Asia/Ho_Chi_Minh), so a fixed offset is exact for every date a lamp will see. We use it
 * instead of Intl.DateTimeFormat because the scheduler converts hundreds of thousands of times a
 * night and a fixed offset does not depend on the ICU data the Node build carries; a test holds
 * it to Intl for dates across the year.
 */
export const TIME_ZONE = 'Asia/Ho_Chi_Minh';
export const UTC_OFFSET_MS = 7 * 3600_000;
const DAY_MS = 86_400_000;

/** A local calendar date, `YYYY-MM-DD`. */
export type LocalDate = string;

export const DATE_PATTERN = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;
export const CLOCK_PATTERN = /^([01]\d|2[0-3]):[0-5]\d$/;

/** The local date at an instant. */
export function localDate(ms: number): LocalDate {
  return new Date(ms + UTC_OFFSET_MS).toISOString().slice(0, 10);
}

/** The instant of a local date at a local clock time given in minutes after midnight. */
export function localInstant(date: LocalDate, minutes = 0): number {
  return Date.parse(`${date}T00:00:00Z`) - UTC_OFFSET_MS + minutes * 60_000;
}

export function addDays(date: LocalDate, days: number): LocalDate {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/** 0 Sunday … 6 Saturday. */
export function weekday(date: LocalDate): number {
  return new Date(`${date}T00:00:00Z`).getUTCDay();
}

/** `HH:MM` as minutes after midnight. */
export function clockMinutes(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

/** `HH:MM` local at an instant. */
export function localClock(ms: number): string {
  return new Date(ms + UTC_OFFSET_MS).toISOString().slice(11, 16);
}

/** A valid calendar date (2026-02-30 is not). */
export function isRealDate(date: string): boolean {
  return DATE_PATTERN.test(date) && new Date(`${date}T00:00:00Z`).toISOString().startsWith(date);
}

/**
 * A lighting night runs from local noon of its evening's date to local noon of the next day:
 * a step at 00:30 on 2 September belongs to the night of 1 September, and runs that night's
 * program (so New Year's Eve's program covers the small hours of 1 January).
 */
export const NIGHT_STARTS_AT_MINUTES = 12 * 60;

/** The night (its evening's date) an instant belongs to. */
export function nightOf(ms: number): LocalDate {
  return localDate(ms - NIGHT_STARTS_AT_MINUTES * 60_000);
}

export function nightStart(night: LocalDate): number {
  return localInstant(night, NIGHT_STARTS_AT_MINUTES);
}
