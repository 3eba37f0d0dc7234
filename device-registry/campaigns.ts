import type { Db } from './db.ts';

/** A campaign's life: it runs group after group, or is paused, or ends one of three ways. */
export const CAMPAIGN_STATUS = {
  running: 'running',
  paused: 'paused',
  /** Every group went through its success threshold. */
  succeeded: 'succeeded',
  /** Stopped by itself: a group passed its error threshold or ended below its success threshold. */
  stopped: 'stopped',
  aborted: 'aborted',
} as const;
export type CampaignStatus = keyof typeof CAMPAIGN_STATUS;
export const FINAL_CAMPAIGN_STATUSES: ReadonlySet<CampaignStatus> = new Set([
  'succeeded',
  'stopped',
  'aborted',
]);

export const TARGET_STATUS = {
  pending: 'pending',
  in_progress: 'in_progress',
  succeeded: 'succeeded',
  failed: 'failed',
  cancelled: 'cancelled',
} as const;
export type TargetStatus = keyof typeof TARGET_STATUS;

/** Where a device in progress is: its command's status, then what the device reported. */
export const TARGET_PHASES = [
  'queued',
  'sent',
  'delivered',
  'downloading',
  'verifying',
  'installing',
  'rebooting',
] as const;
export type TargetPhase = (typeof TARGET_PHASES)[number];

export interface CampaignSelector {
  family?: string;
  model?: string;
  district?: string;
  ward?: string;
  /** Current firmware version or pattern (`1.x`). */
  firmware?: string;
}

export interface Campaign {
  id: string;
  name: string;
  artifactId: string;
  selector: CampaignSelector;
  /** Devices per group, in order. */
  groups: number[];
  status: CampaignStatus;
  reason: string | null;
  /** Percent of a group that must have succeeded before the next group starts. */
  successThreshold: number;
  /** Percent of a group that may fail; past it the campaign stops. */
  errorThreshold: number;
  /** Devices updating at once. */
  concurrency: number;
  timeoutSeconds: number;
  createdAt: number;
  createdBy: string;
  updatedAt: number;
}

export interface CampaignTarget {
  campaignId: string;
  deviceId: string;
  group: number;
  fromVersion: string;
  status: TargetStatus;
  phase: TargetPhase | null;
  progress: number | null;
  commandId: string | null;
  /** SHA-256 of the device's download token (the token itself goes only to the device). */
  tokenHash: string | null;
  error: string | null;
  updatedAt: number;
}

/** Campaign state; a PostgreSQL store implements the same (test/campaign-store-contract.ts). */
export interface CampaignStore {
  create(c: Campaign, targets: CampaignTarget[]): void;
  get(id: string): Campaign | undefined;
  list(filter?: { status?: CampaignStatus[] }): Campaign[];
  update(c: Campaign): void;
  targets(campaignId: string): CampaignTarget[];
  saveTarget(t: CampaignTarget): void;
  targetByToken(tokenHash: string): CampaignTarget | undefined;
}

interface CampaignRow {
  id: string;
  name: string;
  artifact_id: string;
  selector: string;
  groups: string;
  status: CampaignStatus;
  reason: string | null;
  success_threshold: number;
  error_threshold: number;
  concurrency: number;
  timeout_seconds: number;
  created_at: number;
  created_by: string;
  updated_at: number;
}

interface TargetRow {
  campaign_id: string;
  device_id: string;
  group_no: number;
  from_version: string;
  status: TargetStatus;
  phase: TargetPhase | null;
  progress: number | null;
  command_id: string | null;
  token_hash: string | null;
  error: string | null;
  updated_at: number;
}

const campaignFromRow = (r: CampaignRow): Campaign => ({
  id: r.id,
  name: r.name,
  artifactId: r.artifact_id,
  selector: JSON.parse(r.selector),
  groups: JSON.parse(r.groups),
  status: r.status,
  reason: r.reason,
  successThreshold: r.success_threshold,
  errorThreshold: r.error_threshold,
  concurrency: r.concurrency,
  timeoutSeconds: r.timeout_seconds,
  createdAt: r.created_at,
  createdBy: r.created_by,
  updatedAt: r.updated_at,
});

const targetFromRow = (r: TargetRow): CampaignTarget => ({
  campaignId: r.campaign_id,
  deviceId: r.device_id,
  group: r.group_no,
  fromVersion: r.from_version,
  status: r.status,
  phase: r.phase,
  progress: r.progress,
  commandId: r.command_id,
  tokenHash: r.token_hash,
  error: r.error,
  updatedAt: r.updated_at,
});

export class SqliteCampaignStore implements CampaignStore {
  readonly #db: Db;
  readonly #saveTarget;

  constructor(db: Db) {
    this.#db = db;
    this.#saveTarget = db.prepare(
      `INSERT INTO campaign_targets (campaign_id, device_id, group_no, from_version, status, phase, progress, command_id, token_hash, error, updated_at)
       VALUES (@campaignId, @deviceId, @group, @fromVersion, @status, @phase, @progress, @commandId, @tokenHash, @error, @updatedAt)
       ON CONFLICT (campaign_id, device_id) DO UPDATE SET status = excluded.status, phase = excluded.phase,
         progress = excluded.progress, command_id = excluded.command_id, token_hash = excluded.token_hash,
         error = excluded.error, updated_at = excluded.updated_at`,
    );
  }

  create(c: Campaign, targets: CampaignTarget[]): void {
    this.#db.transaction(() => {
      this.#db
        .prepare(
          `INSERT INTO campaigns (id, name, artifact_id, selector, groups, status, reason, success_threshold, error_threshold, concurrency, timeout_seconds, created_at, created_by, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          c.id,
          c.name,
          c.artifactId,
          JSON.stringify(c.selector),
          JSON.stringify(c.groups),
          c.status,
          c.reason,
          c.successThreshold,
          c.errorThreshold,
          c.concurrency,
          c.timeoutSeconds,
          c.createdAt,
          c.createdBy,
          c.updatedAt,
        );
      for (const t of targets) this.#saveTarget.run(t);
    })();
  }

  get(id: string): Campaign | undefined {
    const r = this.#db.prepare('SELECT * FROM campaigns WHERE id = ?').get(id) as CampaignRow | undefined;
    return r && campaignFromRow(r);
  }

  list(filter: { status?: CampaignStatus[] } = {}): Campaign[] {
    const rows = this.#db.prepare('SELECT * FROM campaigns ORDER BY created_at, id').all() as CampaignRow[];
    const wanted = filter.status && new Set(filter.status);
    return rows.filter((r) => !wanted || wanted.has(r.status)).map(campaignFromRow);
  }

  update(c: Campaign): void {
    this.#db
      .prepare('UPDATE campaigns SET status = ?, reason = ?, updated_at = ? WHERE id = ?')
      .run(c.status, c.reason, c.updatedAt, c.id);
  }

  targets(campaignId: string): CampaignTarget[] {
    return (
      this.#db
        .prepare('SELECT * FROM campaign_targets WHERE campaign_id = ? ORDER BY group_no, device_id')
        .all(campaignId) as TargetRow[]
    ).map(targetFromRow);
  }

  saveTarget(t: CampaignTarget): void {
    this.#saveTarget.run(t);
  }

  targetByToken(tokenHash: string): CampaignTarget | undefined {
    const r = this.#db.prepare('SELECT * FROM campaign_targets WHERE token_hash = ?').get(tokenHash) as
      | TargetRow
      | undefined;
    return r && targetFromRow(r);
  }
}
