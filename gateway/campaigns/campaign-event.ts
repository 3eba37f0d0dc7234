import type { CampaignStatus, TargetPhase, TargetStatus } from '../../device-registry/campaigns.ts';

export type TargetCounts = Record<TargetStatus, number>;

export const GROUP_STATUS = {
  /** No device of it started yet. */
  waiting: 'waiting',
  running: 'running',
  /** Its success threshold was reached: the next group may start. */
  passed: 'passed',
  /** Past its error threshold, or ended below its success threshold. */
  failed: 'failed',
} as const;
export type GroupStatus = keyof typeof GROUP_STATUS;

export interface GroupProgress extends TargetCounts {
  group: number;
  size: number;
  status: GroupStatus;
}

/** A campaign's change as the events stream carries it: the device that moved and the counts after. */
export interface CampaignEvent {
  type: 'campaign';
  at: number;
  campaignId: string;
  name: string;
  status: CampaignStatus;
  reason: string | null;
  device: {
    id: string;
    status: TargetStatus;
    phase: TargetPhase | null;
    progress: number | null;
    error: string | null;
  } | null;
  total: TargetCounts & { size: number };
  groups: GroupProgress[];
}
