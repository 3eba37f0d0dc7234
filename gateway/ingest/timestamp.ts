export const FUTURE_TOLERANCE_MS = 5 * 60_000;

export const TS_SOURCES = { device: 'device', received: 'received' } as const;
export type TsSource = keyof typeof TS_SOURCES;

export interface ResolvedTs {
  ts: number;
  source: TsSource;
  /** Why the device's ts was not used, when it was present. */
  rejected?: string;
}

/** epoch ms, epoch s (fractional allowed) or ISO 8601, to epoch ms; NaN when unreadable. */
export function parseDeviceTs(value: unknown): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return Number.NaN;
    // Below 1e11 is seconds (1e11 s is year 5138, 1e11 ms is 1973).
    return value < 1e11 ? Math.round(value * 1000) : Math.round(value);
  }
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value)) return Date.parse(value);
  return Number.NaN;
}

/**
 * The timestamp rules of docs/design.md: the device's ts when present and sane (at most
 * 5 minutes ahead, not older than maxAgeMs), else the receive time.
 */
export function resolveTs(value: unknown, receivedAt: number, maxAgeMs: number): ResolvedTs {
  if (value === undefined || value === null) return { ts: receivedAt, source: 'received' };
  const ts = parseDeviceTs(value);
  if (Number.isNaN(ts)) return { ts: receivedAt, source: 'received', rejected: 'unreadable ts' };
  if (ts > receivedAt + FUTURE_TOLERANCE_MS)
    return { ts: receivedAt, source: 'received', rejected: 'ts in the future' };
  if (ts < receivedAt - maxAgeMs) return { ts: receivedAt, source: 'received', rejected: 'ts too old' };
  return { ts, source: 'device' };
}
