/** Time, injected (STYLE.md): domain code never calls Date.now() or setTimeout directly. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** Epoch milliseconds as the API writes them (ISO 8601, UTC); null stays null. */
export function isoTime(t: number): string;
export function isoTime(t: number | null): string | null;
export function isoTime(t: number | null): string | null {
  return t === null ? null : new Date(t).toISOString();
}
