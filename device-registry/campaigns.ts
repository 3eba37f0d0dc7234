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

/**
 * Campaign state (SQLite here, PostgreSQL in pg/pg-campaigns.ts; test/campaign-store-contract.ts).
 * Status changes are conditional, so a pause on one node and a stop by the engine on another
 * cannot overwrite each other.
 */
export interface CampaignStore {
  create(c: Campaign, targets: CampaignTarget[]): Promise<void>;
  get(id: string): Promise<Campaign | undefined>;
  list(filter?: { status?: CampaignStatus[] }): Promise<Campaign[]>;
  /** Moves a campaign to `to` if its status is one of `from`; the campaign as it is now, or undefined. */
  transition(
    id: string,
    from: readonly CampaignStatus[],
    to: CampaignStatus,
    reason: string | null,
    at: number,
  ): Promise<Campaign | undefined>;
  targets(campaignId: string): Promise<CampaignTarget[]>;
  saveTarget(t: CampaignTarget): Promise<void>;
  /** Progress a device reported, kept only while its update runs. */
  saveProgress(
    campaignId: string,
    deviceId: string,
    phase: TargetPhase | null,
    progress: number | null,
    at: number,
  ): Promise<boolean>;
  targetByToken(tokenHash: string): Promise<CampaignTarget | undefined>;
  targetByCommand(commandId: string): Promise<CampaignTarget | undefined>;
  /** Devices another campaign holds: updating now, or waiting in a campaign that has not ended. */
  busyDevices(): Promise<Set<string>>;
}

export interface CampaignRow {
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

export interface TargetRow {
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

export const campaignFromRow = (r: CampaignRow): Campaign => ({
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

export const targetFromRow = (r: TargetRow): CampaignTarget => ({
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

/** The columns of a campaigns row, in the order both stores insert them. */
export const campaignValues = (c: Campaign) =>
  [
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
  ] as const;

/** The same statement on both stores. */
export const BUSY_DEVICES = `SELECT DISTINCT t.device_id FROM campaign_targets t JOIN campaigns c ON c.id = t.campaign_id
  WHERE t.status = 'in_progress' OR (t.status = 'pending' AND c.status IN ('running', 'paused'))`;

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

  async create(c: Campaign, targets: CampaignTarget[]): Promise<void> {
    this.#db.transaction(() => {
      this.#db
        .prepare(
          `INSERT INTO campaigns (id, name, artifact_id, selector, groups, status, reason, success_threshold, error_threshold, concurrency, timeout_seconds, created_at, created_by, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(...campaignValues(c));
      for (const t of targets) this.#saveTarget.run(t);
    })();
  }

  async get(id: string): Promise<Campaign | undefined> {
    const r = this.#db.prepare('SELECT * FROM campaigns WHERE id = ?').get(id) as CampaignRow | undefined;
    return r && campaignFromRow(r);
  }

  async list(filter: { status?: CampaignStatus[] } = {}): Promise<Campaign[]> {
    const rows = this.#db.prepare('SELECT * FROM campaigns ORDER BY created_at, id').all() as CampaignRow[];
    const wanted = filter.status && new Set(filter.status);
    return rows.filter((r) => !wanted || wanted.has(r.status)).map(campaignFromRow);
  }

  async transition(
    id: string,
    from: readonly CampaignStatus[],
    to: CampaignStatus,
    reason: string | null,
    at: number,
  ): Promise<Campaign | undefined> {
    const r = this.#db
      .prepare(
        `UPDATE campaigns SET status = ?, reason = ?, updated_at = ?
         WHERE id = ? AND status IN (SELECT value FROM json_each(?)) RETURNING *`,
      )
      .get(to, reason, at, id, JSON.stringify(from)) as CampaignRow | undefined;
    return r && campaignFromRow(r);
  }

  async targets(campaignId: string): Promise<CampaignTarget[]> {
    return (
      this.#db
        .prepare('SELECT * FROM campaign_targets WHERE campaign_id = ? ORDER BY group_no, device_id')
        .all(campaignId) as TargetRow[]
    ).map(targetFromRow);
  }

  async saveTarget(t: CampaignTarget): Promise<void> {
    this.#saveTarget.run(t);
  }

  async saveProgress(
    campaignId: string,
    deviceId: string,
    phase: TargetPhase | null,
    progress: number | null,
    at: number,
  ): Promise<boolean> {
    return (
      this.#db
        .prepare(
          `UPDATE campaign_targets SET phase = ?, progress = ?, updated_at = ?
           WHERE campaign_id = ? AND device_id = ? AND status = 'in_progress'`,
        )
        .run(phase, progress, at, campaignId, deviceId).changes > 0
    );
  }

  async targetByToken(tokenHash: string): Promise<CampaignTarget | undefined> {
    const r = this.#db.prepare('SELECT * FROM campaign_targets WHERE token_hash = ?').get(tokenHash) as
      | TargetRow
      | undefined;
    return r && targetFromRow(r);
  }

  async targetByCommand(commandId: string): Promise<CampaignTarget | undefined> {
    const r = this.#db.prepare('SELECT * FROM campaign_targets WHERE command_id = ?').get(commandId) as
      | TargetRow
      | undefined;
    return r && targetFromRow(r);
  }

  async busyDevices(): Promise<Set<string>> {
    const rows = this.#db.prepare(BUSY_DEVICES).all() as Array<{ device_id: string }>;
    return new Set(rows.map((r) => r.device_id));
  }
}
