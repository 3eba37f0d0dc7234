/**
 * What a marker shows, most urgent first: an open alarm by severity, then offline, online,
 * disabled. A cluster takes its most urgent member's rank.
 */
export const RANK_KEYS = ['critical', 'major', 'minor', 'warning', 'offline', 'online', 'disabled'] as const;
export type RankKey = (typeof RANK_KEYS)[number];

export const RANK_COLOUR: Record<RankKey, string> = {
  critical: '#ff5c5c',
  major: '#ff9f43',
  minor: '#f2cc60',
  warning: '#58a6ff',
  offline: '#8b96a3',
  online: '#3fb950',
  disabled: '#59636e',
};

/** status: 0 online, 1 offline, 2 disabled; alarm: 0 critical … 3 warning, -1 none. */
export function markerRank(status: number, alarm: number): number {
  if (alarm >= 0 && status !== 2) return alarm;
  return status === 0 ? 5 : status === 1 ? 4 : 6;
}
