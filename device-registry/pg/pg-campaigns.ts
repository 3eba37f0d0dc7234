import {
  BUSY_DEVICES,
  type Campaign,
  type CampaignRow,
  type CampaignStatus,
  type CampaignStore,
  type CampaignTarget,
  campaignFromRow,
  campaignValues,
  type TargetPhase,
  type TargetRow,
  targetFromRow,
} from '../campaigns.ts';
import { inTransaction, type PgPool, type PgQueryable } from './pg-db.ts';

const SAVE_TARGET = `INSERT INTO campaign_targets (campaign_id, device_id, group_no, from_version, status, phase, progress, command_id, token_hash, error, updated_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
  ON CONFLICT (campaign_id, device_id) DO UPDATE SET status = excluded.status, phase = excluded.phase,
    progress = excluded.progress, command_id = excluded.command_id, token_hash = excluded.token_hash,
    error = excluded.error, updated_at = excluded.updated_at`;

const targetValues = (t: CampaignTarget) => [
  t.campaignId,
  t.deviceId,
  t.group,
  t.fromVersion,
  t.status,
  t.phase,
  t.progress,
  t.commandId,
  t.tokenHash,
  t.error,
  t.updatedAt,
];

/** Targets of a new campaign per statement: few round trips, well under the 65,535 parameters. */
const INSERT_BATCH = 1000;

async function insertTargets(db: PgQueryable, targets: CampaignTarget[]): Promise<void> {
  for (let i = 0; i < targets.length; i += INSERT_BATCH) {
    const batch = targets.slice(i, i + INSERT_BATCH);
    const params: unknown[] = [];
    const tuples = batch.map((t) => {
      const base = params.length;
      const values = targetValues(t);
      params.push(...values);
      return `(${values.map((_, k) => `$${base + k + 1}`).join(', ')})`;
    });
    await db.query(
      `INSERT INTO campaign_targets (campaign_id, device_id, group_no, from_version, status, phase, progress, command_id, token_hash, error, updated_at)
       VALUES ${tuples.join(', ')}`,
      params,
    );
  }
}

/** Campaigns and their targets on PostgreSQL (migration 004). */
export class PgCampaignStore implements CampaignStore {
  readonly #pool: PgPool;

  constructor(pool: PgPool) {
    this.#pool = pool;
  }

  async create(c: Campaign, targets: CampaignTarget[]): Promise<void> {
    await inTransaction(this.#pool, async (client) => {
      await client.query(
        `INSERT INTO campaigns (id, name, artifact_id, selector, groups, status, reason, success_threshold, error_threshold, concurrency, timeout_seconds, created_at, created_by, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
        [...campaignValues(c)],
      );
      await insertTargets(client, targets);
    });
  }

  async get(id: string): Promise<Campaign | undefined> {
    const { rows } = await this.#pool.query<CampaignRow>('SELECT * FROM campaigns WHERE id = $1', [id]);
    return rows[0] && campaignFromRow(rows[0]);
  }

  async list(filter: { status?: CampaignStatus[] } = {}): Promise<Campaign[]> {
    const { rows } = filter.status
      ? await this.#pool.query<CampaignRow>(
          'SELECT * FROM campaigns WHERE status = ANY($1) ORDER BY created_at, id',
          [filter.status],
        )
      : await this.#pool.query<CampaignRow>('SELECT * FROM campaigns ORDER BY created_at, id');
    return rows.map(campaignFromRow);
  }

  async transition(
    id: string,
    from: readonly CampaignStatus[],
    to: CampaignStatus,
    reason: string | null,
    at: number,
  ): Promise<Campaign | undefined> {
    const { rows } = await this.#pool.query<CampaignRow>(
      `UPDATE campaigns SET status = $1, reason = $2, updated_at = $3
       WHERE id = $4 AND status = ANY($5) RETURNING *`,
      [to, reason, at, id, from],
    );
    return rows[0] && campaignFromRow(rows[0]);
  }

  async targets(campaignId: string): Promise<CampaignTarget[]> {
    const { rows } = await this.#pool.query<TargetRow>(
      'SELECT * FROM campaign_targets WHERE campaign_id = $1 ORDER BY group_no, device_id',
      [campaignId],
    );
    return rows.map(targetFromRow);
  }

  async saveTarget(t: CampaignTarget): Promise<void> {
    await this.#pool.query(SAVE_TARGET, targetValues(t));
  }

  async saveProgress(
    campaignId: string,
    deviceId: string,
    phase: TargetPhase | null,
    progress: number | null,
    at: number,
  ): Promise<boolean> {
    const { rowCount } = await this.#pool.query(
      `UPDATE campaign_targets SET phase = $1, progress = $2, updated_at = $3
       WHERE campaign_id = $4 AND device_id = $5 AND status = 'in_progress'`,
      [phase, progress, at, campaignId, deviceId],
    );
    return (rowCount ?? 0) > 0;
  }

  async targetByToken(tokenHash: string): Promise<CampaignTarget | undefined> {
    const { rows } = await this.#pool.query<TargetRow>(
      'SELECT * FROM campaign_targets WHERE token_hash = $1',
      [tokenHash],
    );
    return rows[0] && targetFromRow(rows[0]);
  }

  async targetByCommand(commandId: string): Promise<CampaignTarget | undefined> {
    const { rows } = await this.#pool.query<TargetRow>(
      'SELECT * FROM campaign_targets WHERE command_id = $1',
      [commandId],
    );
    return rows[0] && targetFromRow(rows[0]);
  }

  async busyDevices(): Promise<Set<string>> {
    const { rows } = await this.#pool.query<{ device_id: string }>(BUSY_DEVICES);
    return new Set(rows.map((r) => r.device_id));
  }
}
