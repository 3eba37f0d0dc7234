import type { Campaign, CampaignTarget, TargetStatus } from '../../device-registry/campaigns.ts';
import type { GroupProgress, GroupStatus, TargetCounts } from './campaign-event.ts';

export const emptyCounts = (): TargetCounts => ({
  pending: 0,
  in_progress: 0,
  succeeded: 0,
  failed: 0,
  cancelled: 0,
});

/** Targets per group and status (what a node that does not run the campaign reads from the store). */
export function countTargets(c: Campaign, targets: Iterable<CampaignTarget>): TargetCounts[] {
  const counts = c.groups.map(emptyCounts);
  for (const t of targets) counts[t.group][t.status]++;
  return counts;
}

/** Totals and each group's status (waiting, running, passed, failed) from the counts. */
export function progressOf(
  c: Campaign,
  counts: TargetCounts[],
): { total: TargetCounts & { size: number }; groups: GroupProgress[] } {
  const total = { ...emptyCounts(), size: 0 };
  const groups = c.groups.map((size, g): GroupProgress => {
    const k = counts[g];
    for (const key of Object.keys(k) as TargetStatus[]) total[key] += k[key];
    total.size += size;
    let status: GroupStatus;
    if (k.failed * 100 > c.errorThreshold * size) status = 'failed';
    else if (k.succeeded * 100 >= c.successThreshold * size) status = 'passed';
    else if (k.pending === size) status = 'waiting';
    else if (k.pending + k.in_progress === 0) status = 'failed';
    else status = 'running';
    return { group: g + 1, size, status, ...k };
  });
  return { total, groups };
}
