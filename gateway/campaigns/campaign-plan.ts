import type { CampaignSelector } from '../../device-registry/campaigns.ts';
import type { Device } from '../../device-registry/devices.ts';
import type { FirmwareArtifact } from '../../device-registry/firmware-artifacts.ts';
import { firmwarePatternMatches } from '../../firmware-specs/define-device.ts';
import { CampaignGroupsError, CampaignNoDevicesError, CampaignSelectorError } from './errors.ts';

export type GroupSpec = { sizes: number[] } | { percentages: number[] };

/**
 * The devices a campaign updates: those the selector picks that run the artifact's model on a
 * version it upgrades from, are enabled, and are not in another campaign that has not ended.
 * In id order, so the groups are reproducible.
 */
export function selectTargets(
  all: Iterable<Device>,
  artifact: FirmwareArtifact,
  selector: CampaignSelector,
  busy: (deviceId: string) => boolean,
): Device[] {
  if (selector.model && selector.model !== artifact.model)
    throw new CampaignSelectorError(`model ${selector.model} is not the artifact's model ${artifact.model}`);
  const out: Device[] = [];
  for (const d of all) {
    if (d.model !== artifact.model || !d.enabled) continue;
    if (selector.family && d.family !== selector.family) continue;
    if (selector.district && d.district !== selector.district) continue;
    if (selector.ward && d.ward !== selector.ward) continue;
    if (selector.firmware && !firmwarePatternMatches(selector.firmware, d.firmware)) continue;
    if (d.firmware === artifact.version) continue;
    if (!artifact.fromVersions.some((p) => firmwarePatternMatches(p, d.firmware))) continue;
    if (busy(d.id)) continue;
    out.push(d);
  }
  if (out.length === 0)
    throw new CampaignNoDevicesError(
      `model ${artifact.model}, enabled, on ${artifact.fromVersions.join(' or ')}, not in another running campaign${
        Object.keys(selector).length ? `, ${JSON.stringify(selector)}` : ''
      }`,
    );
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * Group sizes for n devices. Sizes: in order, the last group takes whatever is left (more
 * devices than the sizes sum to make one more group). Percentages: of n, summing to 100,
 * rounded so that the groups add up to n. Empty groups are dropped.
 */
export function splitGroups(n: number, spec: GroupSpec): number[] {
  let sizes: number[];
  if ('sizes' in spec) {
    sizes = [];
    let left = n;
    for (const s of spec.sizes) {
      if (left === 0) break;
      sizes.push(Math.min(s, left));
      left -= Math.min(s, left);
    }
    if (left > 0) sizes.push(left);
  } else {
    const sum = spec.percentages.reduce((a, b) => a + b, 0);
    if (Math.abs(sum - 100) > 1e-9) throw new CampaignGroupsError(`percentages add up to ${sum}, not 100`);
    sizes = [];
    let cumulative = 0;
    let given = 0;
    for (const p of spec.percentages) {
      cumulative += p;
      const upTo = Math.round((cumulative / 100) * n);
      sizes.push(upTo - given);
      given = upTo;
    }
  }
  return sizes.filter((s) => s > 0);
}
