import { describe, expect, it } from 'vitest';
import type { Campaign, CampaignStore, CampaignTarget } from '../device-registry/campaigns.ts';
import type { FirmwareArtifact, FirmwareArtifactStore } from '../device-registry/firmware-artifacts.ts';

/**
 * What every firmware artifact and campaign store must do (SQLite and PostgreSQL).
 * `open` returns fresh, empty stores.
 */
export function campaignStoreContract(
  name: string,
  open: () => Promise<{
    artifacts: FirmwareArtifactStore;
    campaigns: CampaignStore;
    close(): void | Promise<void>;
  }>,
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
        await s.artifacts.create(artifact());
        await s.artifacts.create(artifact({ id: 'fw_000000000000000002', model: 'dragonlight-nc20' }));
        expect(await s.artifacts.get('fw_000000000000000001')).toEqual(artifact());
        expect((await s.artifacts.byModelVersion('lumina-slc300', '3.0.0'))?.id).toBe(
          'fw_000000000000000001',
        );
        expect((await s.artifacts.list({ model: 'dragonlight-nc20' })).map((a) => a.id)).toEqual([
          'fw_000000000000000002',
        ]);
        expect((await s.artifacts.list()).map((a) => a.id)).toEqual([
          'fw_000000000000000001',
          'fw_000000000000000002',
        ]);
        await expect(s.artifacts.create(artifact({ id: 'fw_000000000000000003' }))).rejects.toThrow();
        expect(await s.artifacts.delete('fw_000000000000000001')).toBe(true);
        expect(await s.artifacts.delete('fw_000000000000000001')).toBe(false);
        expect(await s.artifacts.get('fw_000000000000000001')).toBeUndefined();
      } finally {
        await s.close();
      }
    });
  });

  describe(`${name}: campaigns`, () => {
    it('keeps a campaign with its targets, updates both, and finds a target by its token hash', async () => {
      const s = await open();
      try {
        await s.artifacts.create(artifact());
        await s.campaigns.create(campaign(), [target('d2', 1), target('d1', 0), target('d3', 1)]);
        expect(await s.campaigns.get('camp_000000000001')).toEqual(campaign());
        expect((await s.campaigns.targets('camp_000000000001')).map((t) => t.deviceId)).toEqual([
          'd1',
          'd2',
          'd3',
        ]);
        const moved = target('d1', 0, {
          status: 'in_progress',
          phase: 'downloading',
          progress: 50,
          commandId: 'cmd_1',
          tokenHash: 'b'.repeat(64),
          updatedAt: 2000,
        });
        await s.campaigns.saveTarget(moved);
        expect(await s.campaigns.targetByToken('b'.repeat(64))).toEqual(moved);
        expect(await s.campaigns.targetByToken('c'.repeat(64))).toBeUndefined();
        expect(await s.campaigns.targetByCommand('cmd_1')).toEqual(moved);
        expect(await s.campaigns.targetByCommand('cmd_2')).toBeUndefined();
        expect(
          await s.campaigns.transition(
            'camp_000000000001',
            ['running'],
            'stopped',
            'group 1 passed its error threshold',
            3000,
          ),
        ).toMatchObject({ status: 'stopped', reason: 'group 1 passed its error threshold', updatedAt: 3000 });
        expect(await s.campaigns.get('camp_000000000001')).toMatchObject({
          status: 'stopped',
          updatedAt: 3000,
        });
        expect(await s.campaigns.list({ status: ['running', 'paused'] })).toEqual([]);
        expect((await s.campaigns.list()).map((c) => c.id)).toEqual(['camp_000000000001']);
      } finally {
        await s.close();
      }
    });

    it('changes a status only from the statuses given, so two nodes cannot overwrite each other', async () => {
      const s = await open();
      try {
        await s.campaigns.create(campaign(), [target('d1', 0)]);
        expect(
          await s.campaigns.transition('camp_000000000001', ['running'], 'paused', 'by ana', 2000),
        ).toMatchObject({ status: 'paused', reason: 'by ana' });
        // A second node still thinking it runs: its stop does not happen.
        expect(
          await s.campaigns.transition('camp_000000000001', ['running'], 'stopped', 'x', 2100),
        ).toBeUndefined();
        expect(
          await s.campaigns.transition('camp_000000000002', ['running'], 'stopped', 'x', 2100),
        ).toBeUndefined();
        expect(
          await s.campaigns.transition('camp_000000000001', ['running', 'paused'], 'aborted', null, 2200),
        ).toMatchObject({ status: 'aborted', reason: null, updatedAt: 2200 });
        expect(await s.campaigns.list({ status: ['aborted'] })).toHaveLength(1);
      } finally {
        await s.close();
      }
    });

    it('keeps device progress only while its update runs, and knows which devices are busy', async () => {
      const s = await open();
      try {
        await s.campaigns.create(campaign(), [
          target('d1', 0, { status: 'in_progress', phase: 'sent', commandId: 'cmd_1' }),
          target('d2', 0, { status: 'succeeded' }),
          target('d3', 1),
        ]);
        await s.campaigns.create(campaign({ id: 'camp_000000000002', status: 'aborted', createdAt: 1001 }), [
          target('d4', 0, { campaignId: 'camp_000000000002', status: 'in_progress' }),
          target('d5', 0, { campaignId: 'camp_000000000002' }),
        ]);
        expect(await s.campaigns.saveProgress('camp_000000000001', 'd1', 'downloading', 40, 2000)).toBe(true);
        expect(await s.campaigns.saveProgress('camp_000000000001', 'd2', 'downloading', 40, 2000)).toBe(
          false,
        );
        expect(await s.campaigns.targetByCommand('cmd_1')).toMatchObject({
          phase: 'downloading',
          progress: 40,
          updatedAt: 2000,
        });
        // d3 waits in a running campaign, d4 still updates in an aborted one; d5 will never start.
        expect([...(await s.campaigns.busyDevices())].sort()).toEqual(['d1', 'd3', 'd4']);
      } finally {
        await s.close();
      }
    });
  });
}
