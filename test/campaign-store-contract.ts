import { describe, expect, it } from 'vitest';
import type { Campaign, CampaignStore, CampaignTarget } from '../device-registry/campaigns.ts';
import type { FirmwareArtifact, FirmwareArtifactStore } from '../device-registry/firmware-artifacts.ts';

/**
 * What every firmware artifact and campaign store must do (SQLite now; PostgreSQL later).
 * `open` returns fresh, empty stores.
 */
export function campaignStoreContract(
  name: string,
  open: () => Promise<{ artifacts: FirmwareArtifactStore; campaigns: CampaignStore; close(): void }>,
) {
  const artifact = (over: Partial<FirmwareArtifact> = {}): FirmwareArtifact => ({
    id: 'fw_000000000000000001',
    model: 'lumina-slc300',
    version: '3.0.0',
    fromVersions: ['2.x'],
    sha256: 'a'.repeat(64),
    size: 100,
    name: 'slc.bin',
    createdAt: 1000,
    createdBy: 'admin',
    ...over,
  });
  const campaign = (over: Partial<Campaign> = {}): Campaign => ({
    id: 'camp_000000000001',
    name: 'c',
    artifactId: 'fw_000000000000000001',
    selector: { district: 'Hoàn Kiếm' },
    groups: [1, 2],
    status: 'running',
    reason: null,
    successThreshold: 95,
    errorThreshold: 5,
    concurrency: 10,
    timeoutSeconds: 600,
    createdAt: 1000,
    createdBy: 'admin',
    updatedAt: 1000,
    ...over,
  });
  const target = (deviceId: string, group: number, over: Partial<CampaignTarget> = {}): CampaignTarget => ({
    campaignId: 'camp_000000000001',
    deviceId,
    group,
    fromVersion: '2.1.0',
    status: 'pending',
    phase: null,
    progress: null,
    commandId: null,
    tokenHash: null,
    error: null,
    updatedAt: 1000,
    ...over,
  });

  describe(`${name}: firmware artifacts`, () => {
    it('keeps, finds, lists and deletes artifacts; one per model and version', async () => {
      const s = await open();
      try {
        s.artifacts.create(artifact());
        s.artifacts.create(artifact({ id: 'fw_000000000000000002', model: 'dragonlight-nc20' }));
        expect(s.artifacts.get('fw_000000000000000001')).toEqual(artifact());
        expect(s.artifacts.byModelVersion('lumina-slc300', '3.0.0')?.id).toBe('fw_000000000000000001');
        expect(s.artifacts.list({ model: 'dragonlight-nc20' }).map((a) => a.id)).toEqual([
          'fw_000000000000000002',
        ]);
        expect(() => s.artifacts.create(artifact({ id: 'fw_000000000000000003' }))).toThrow();
        expect(s.artifacts.delete('fw_000000000000000001')).toBe(true);
        expect(s.artifacts.delete('fw_000000000000000001')).toBe(false);
        expect(s.artifacts.get('fw_000000000000000001')).toBeUndefined();
      } finally {
        s.close();
      }
    });
  });

  describe(`${name}: campaigns`, () => {
    it('keeps a campaign with its targets, updates both, and finds a target by its token hash', async () => {
      const s = await open();
      try {
        s.artifacts.create(artifact());
        s.campaigns.create(campaign(), [target('d2', 1), target('d1', 0), target('d3', 1)]);
        expect(s.campaigns.get('camp_000000000001')).toEqual(campaign());
        expect(s.campaigns.targets('camp_000000000001').map((t) => t.deviceId)).toEqual(['d1', 'd2', 'd3']);
        const moved = target('d1', 0, {
          status: 'in_progress',
          phase: 'downloading',
          progress: 50,
          commandId: 'cmd_1',
          tokenHash: 'b'.repeat(64),
          updatedAt: 2000,
        });
        s.campaigns.saveTarget(moved);
        expect(s.campaigns.targetByToken('b'.repeat(64))).toEqual(moved);
        expect(s.campaigns.targetByToken('c'.repeat(64))).toBeUndefined();
        s.campaigns.update(
          campaign({ status: 'stopped', reason: 'group 1 passed its error threshold', updatedAt: 3000 }),
        );
        expect(s.campaigns.get('camp_000000000001')).toMatchObject({ status: 'stopped', updatedAt: 3000 });
        expect(s.campaigns.list({ status: ['running', 'paused'] })).toEqual([]);
        expect(s.campaigns.list().map((c) => c.id)).toEqual(['camp_000000000001']);
      } finally {
        s.close();
      }
    });
  });
}
