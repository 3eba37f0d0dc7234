import { createHash, randomBytes } from 'node:crypto';
import {
  type Campaign,
  type CampaignSelector,
  type CampaignStore,
  type CampaignTarget,
  FINAL_CAMPAIGN_STATUSES,
  TARGET_PHASES,
  type TargetPhase,
  type TargetStatus,
} from '../../device-registry/campaigns.ts';
import { type CommandStatus, FINAL_STATUSES } from '../../device-registry/commands.ts';
import type { Device } from '../../device-registry/devices.ts';
import type { CommandService } from '../commands/command-service.ts';
import type { GatewayContext } from '../context.ts';
import type { GatewayEvent } from '../events/bus.ts';
import type { ArtifactService } from '../firmware/artifact-service.ts';
import type { CampaignEvent, GroupProgress, GroupStatus, TargetCounts } from './campaign-event.ts';
import { type GroupSpec, selectTargets, splitGroups } from './campaign-plan.ts';
import { CampaignNotFoundError, CampaignStateError } from './errors.ts';

export interface NewCampaign {
  name: string;
  artifactId: string;
  selector: CampaignSelector;
  groups: GroupSpec;
  successThreshold: number;
  errorThreshold: number;
  concurrency: number;
  timeoutSeconds: number;
}

interface Live {
  c: Campaign;
  targets: Map<string, CampaignTarget>;
  /** Targets in start order (group, then id); pending ones are never before `cursor`. */
  order: CampaignTarget[];
  cursor: number;
  counts: TargetCounts[];
  /** A tick runs to its end; a tick asked for meanwhile (a device failed at once) runs after it. */
  ticking: boolean;
  again: boolean;
}

const OTA = 'otaUpdate';
const RECONCILE_MS = 2000;
const emptyCounts = (): TargetCounts => ({
  pending: 0,
  in_progress: 0,
  succeeded: 0,
  failed: 0,
  cancelled: 0,
});
const DEVICE_PHASES: ReadonlySet<string> = new Set(['downloading', 'verifying', 'installing', 'rebooting']);
const phaseRank = (p: TargetPhase | null) => (p === null ? -1 : TARGET_PHASES.indexOf(p));
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * Firmware campaigns (docs/design.md, "Firmware campaigns"): devices updated group by group
 * through otaUpdate commands, the next group started once the previous reached its success
 * threshold, the campaign stopped when a group passes its error threshold. Every change is
 * written through the store, so a restarted gateway goes on where it was.
 */
export class CampaignEngine {
  readonly #ctx: GatewayContext;
  readonly #store: CampaignStore;
  readonly #artifacts: ArtifactService;
  readonly #commands: () => CommandService;
  readonly #downloadUrl: (artifactId: string, token: string) => string;
  /** Campaigns that have not ended, or have devices still updating. */
  readonly #live = new Map<string, Live>();
  readonly #byCommand = new Map<string, CampaignTarget>();
  readonly #byToken = new Map<string, CampaignTarget>();
  #timer: unknown;
  #stopped = false;

  constructor(deps: {
    ctx: GatewayContext;
    store: CampaignStore;
    artifacts: ArtifactService;
    commands: () => CommandService;
    downloadUrl: (artifactId: string, token: string) => string;
  }) {
    this.#ctx = deps.ctx;
    this.#store = deps.store;
    this.#artifacts = deps.artifacts;
    this.#commands = deps.commands;
    this.#downloadUrl = deps.downloadUrl;
  }

  artifactOf(id: string) {
    return this.#artifacts.store.get(id);
  }

  get store(): CampaignStore {
    return this.#store;
  }

  /** At start-up, before the command service recovers: campaigns and devices in flight. */
  load(): void {
    for (const c of this.#store.list()) {
      const targets = this.#store.targets(c.id);
      if (FINAL_CAMPAIGN_STATUSES.has(c.status) && !targets.some((t) => t.status === 'in_progress')) continue;
      this.#addLive(c, targets);
    }
  }

  start(): void {
    this.#stopped = false;
    this.#reconcile();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#ctx.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #addLive(c: Campaign, targets: CampaignTarget[]): Live {
    const live: Live = {
      c,
      targets: new Map(targets.map((t) => [t.deviceId, t])),
      order: [...targets].sort((a, b) => a.group - b.group || (a.deviceId < b.deviceId ? -1 : 1)),
      cursor: 0,
      counts: c.groups.map(emptyCounts),
      ticking: false,
      again: false,
    };
    for (const t of targets) {
      live.counts[t.group][t.status]++;
      if (t.commandId) this.#byCommand.set(t.commandId, t);
      if (t.tokenHash && t.status === 'in_progress') this.#byToken.set(t.tokenHash, t);
    }
    this.#live.set(c.id, live);
    return live;
  }

  // ---- API

  create(input: NewCampaign, actor: string): Campaign {
    const artifact = this.#artifacts.require(input.artifactId);
    const devices = selectTargets(this.#ctx.devices.values(), artifact, input.selector, (id) =>
      this.#busy(id),
    );
    const groups = splitGroups(devices.length, input.groups);
    const now = this.#ctx.clock.now();
    const c: Campaign = {
      id: `camp_${randomBytes(6).toString('hex')}`,
      name: input.name,
      artifactId: artifact.id,
      selector: input.selector,
      groups,
      status: 'running',
      reason: null,
      successThreshold: input.successThreshold,
      errorThreshold: input.errorThreshold,
      concurrency: input.concurrency,
      timeoutSeconds: input.timeoutSeconds,
      createdAt: now,
      createdBy: actor,
      updatedAt: now,
    };
    const targets: CampaignTarget[] = [];
    let g = 0;
    let inGroup = 0;
    for (const d of devices) {
      if (inGroup === groups[g]) {
        g++;
        inGroup = 0;
      }
      inGroup++;
      targets.push(this.#newTarget(c.id, d, g, now));
    }
    this.#store.create(c, targets);
    this.#ctx.audit.record(now, actor, 'campaign.create', c.id, {
      name: c.name,
      artifact: artifact.id,
      version: artifact.version,
      devices: devices.length,
      groups,
    });
    const live = this.#addLive(c, targets);
    this.#publish(live, null);
    this.#tick(live);
    return c;
  }

  #newTarget(campaignId: string, d: Device, group: number, now: number): CampaignTarget {
    return {
      campaignId,
      deviceId: d.id,
      group,
      fromVersion: d.firmware,
      status: 'pending',
      phase: null,
      progress: null,
      commandId: null,
      tokenHash: null,
      error: null,
      updatedAt: now,
    };
  }

  list(): Campaign[] {
    return this.#store.list().map((c) => this.#live.get(c.id)?.c ?? c);
  }

  get(id: string): Campaign {
    const c = this.#live.get(id)?.c ?? this.#store.get(id);
    if (!c) throw new CampaignNotFoundError(id);
    return c;
  }

  targets(id: string): CampaignTarget[] {
    const live = this.#live.get(id);
    if (live) return live.order;
    this.get(id);
    return this.#store.targets(id);
  }

  progress(id: string): { total: TargetCounts & { size: number }; groups: GroupProgress[] } {
    const live = this.#live.get(id);
    if (live) return this.#progressOf(live.c, live.counts);
    const c = this.get(id);
    const counts = c.groups.map(emptyCounts);
    for (const t of this.#store.targets(id)) counts[t.group][t.status]++;
    return this.#progressOf(c, counts);
  }

  pause(id: string, actor: string): Campaign {
    const live = this.#requireLive(id, 'running', 'be paused');
    this.#setStatus(live, 'paused', `paused by ${actor}`, actor);
    return live.c;
  }

  resume(id: string, actor: string): Campaign {
    const live = this.#requireLive(id, 'paused', 'be resumed');
    this.#setStatus(live, 'running', null, actor);
    this.#tick(live);
    return live.c;
  }

  /** Queued commands are cancelled; devices already updating finish and are counted. */
  abort(id: string, actor: string): Campaign {
    const live = this.#live.get(id);
    const c = live?.c ?? this.get(id);
    if (!live || FINAL_CAMPAIGN_STATUSES.has(c.status))
      throw new CampaignStateError(id, c.status, 'be aborted');
    this.#setStatus(live, 'aborted', `aborted by ${actor}`, actor);
    this.#cancelQueued(live, actor);
    return live.c;
  }

  #requireLive(id: string, status: Campaign['status'], what: string): Live {
    const live = this.#live.get(id);
    const c = live?.c ?? this.get(id);
    if (!live || c.status !== status) throw new CampaignStateError(id, c.status, what);
    return live;
  }

  /** A device's download token, for its campaign's artifact, while its update runs. */
  grant(token: string, artifactId: string): boolean {
    const t = this.#byToken.get(sha256(token));
    if (t?.status !== 'in_progress') return false;
    return this.#live.get(t.campaignId)?.c.artifactId === artifactId;
  }

  inUseBy(artifactId: string): string | undefined {
    for (const live of this.#live.values()) if (live.c.artifactId === artifactId) return live.c.id;
    return undefined;
  }

  #busy(deviceId: string): boolean {
    for (const live of this.#live.values()) {
      const t = live.targets.get(deviceId);
      if (!t) continue;
      if (t.status === 'in_progress') return true;
      if (t.status === 'pending' && !FINAL_CAMPAIGN_STATUSES.has(live.c.status)) return true;
    }
    return false;
  }

  // ---- the run

  #passedSuccess(live: Live, g: number): boolean {
    return live.counts[g].succeeded * 100 >= live.c.successThreshold * live.c.groups[g];
  }

  #passedError(live: Live, g: number): boolean {
    return live.counts[g].failed * 100 > live.c.errorThreshold * live.c.groups[g];
  }

  #tick(live: Live): void {
    if (live.ticking) {
      live.again = true;
      return;
    }
    live.ticking = true;
    try {
      do {
        live.again = false;
        this.#tickOnce(live);
      } while (live.again);
    } finally {
      live.ticking = false;
    }
  }

  #tickOnce(live: Live): void {
    if (live.c.status !== 'running' || this.#stopped) return;
    const { c, counts } = live;
    const n = c.groups.length;
    let current = n;
    for (let g = 0; g < n; g++)
      if (!this.#passedSuccess(live, g)) {
        current = g;
        break;
      }
    for (let g = 0; g <= Math.min(current, n - 1); g++) {
      if (!this.#passedError(live, g)) continue;
      const { failed } = counts[g];
      this.#setStatus(
        live,
        'stopped',
        `group ${g + 1} passed its error threshold: ${failed} of ${c.groups[g]} failed (more than ${c.errorThreshold} %)`,
        'gateway',
      );
      this.#cancelQueued(live, 'gateway');
      return;
    }
    let inFlight = counts.reduce((s, k) => s + k.in_progress, 0);
    while (inFlight < c.concurrency && live.cursor < live.order.length) {
      const t = live.order[live.cursor];
      if (t.status !== 'pending') {
        live.cursor++;
        continue;
      }
      if (t.group > current) break;
      live.cursor++;
      this.#startTarget(live, t);
      // A device that failed at once: the thresholds are looked at again before the next start.
      if ((t.status as TargetStatus) !== 'in_progress') break;
      inFlight++;
    }
    const left = (k: TargetCounts) => k.pending + k.in_progress;
    if (current === n) {
      if (counts.every((k) => left(k) === 0)) this.#setStatus(live, 'succeeded', null, 'gateway');
      return;
    }
    if (left(counts[current]) === 0)
      this.#setStatus(
        live,
        'stopped',
        `group ${current + 1} ended with ${counts[current].succeeded} of ${c.groups[current]} updated, below its success threshold of ${c.successThreshold} %`,
        'gateway',
      );
  }

  #startTarget(live: Live, t: CampaignTarget): void {
    const artifact = this.#artifacts.store.get(live.c.artifactId);
    const token = randomBytes(32).toString('base64url');
    t.tokenHash = sha256(token);
    this.#byToken.set(t.tokenHash, t);
    this.#moveTarget(live, t, 'in_progress', { phase: 'queued' });
    try {
      if (!artifact) throw new Error(`artifact ${live.c.artifactId} was deleted`);
      const { command } = this.#commands().submit({
        deviceId: t.deviceId,
        name: OTA,
        params: {
          url: this.#downloadUrl(artifact.id, token),
          sha256: artifact.sha256,
          size: artifact.size,
          version: artifact.version,
        },
        ttlSeconds: live.c.timeoutSeconds,
        timeoutSeconds: live.c.timeoutSeconds,
        idempotencyKey: `${live.c.id}:ota`,
        actor: `campaign:${live.c.id}`,
      });
      t.commandId = command.id;
      this.#byCommand.set(command.id, t);
      // Its first moves (sent, delivered) happened inside submit(), before the id was known here.
      this.#fromCommand(live, t, command.status, command.error);
    } catch (err) {
      this.#moveTarget(live, t, 'failed', { error: (err as Error).message });
    }
  }

  /** A command status, seen as an event or read back from the store. */
  #fromCommand(live: Live, t: CampaignTarget, status: CommandStatus, error: string | null): void {
    if (t.status !== 'in_progress') return;
    if (!FINAL_STATUSES.has(status)) {
      const phase = status as TargetPhase;
      if (phaseRank(phase) > phaseRank(t.phase)) this.#moveTarget(live, t, 'in_progress', { phase });
      return;
    }
    if (status === 'succeeded') this.#moveTarget(live, t, 'succeeded', { phase: null, progress: 100 });
    else if (status === 'cancelled') this.#moveTarget(live, t, 'cancelled', { error: 'command cancelled' });
    else this.#moveTarget(live, t, 'failed', { error: error ?? `command ${status}` });
  }

  #moveTarget(
    live: Live,
    t: CampaignTarget,
    to: TargetStatus,
    extra: { phase?: TargetPhase | null; progress?: number | null; error?: string | null } = {},
  ): void {
    const from = t.status;
    if (from !== to) {
      live.counts[t.group][from]--;
      live.counts[t.group][to]++;
      t.status = to;
    }
    if (extra.phase !== undefined) t.phase = extra.phase;
    if (extra.progress !== undefined) t.progress = extra.progress;
    if (extra.error !== undefined) t.error = extra.error;
    if (to !== 'in_progress' && t.tokenHash) this.#byToken.delete(t.tokenHash);
    t.updatedAt = this.#ctx.clock.now();
    this.#store.saveTarget(t);
    this.#publish(live, t);
    if (from === 'in_progress' && to !== 'in_progress') {
      this.#tick(live);
      this.#dropIfDone(live);
    }
  }

  #setStatus(live: Live, status: Campaign['status'], reason: string | null, actor: string): void {
    live.c.status = status;
    live.c.reason = reason;
    live.c.updatedAt = this.#ctx.clock.now();
    this.#store.update(live.c);
    this.#ctx.audit.record(
      live.c.updatedAt,
      actor,
      `campaign.${status}`,
      live.c.id,
      reason ? { reason } : undefined,
    );
    this.#publish(live, null);
    this.#dropIfDone(live);
  }

  #cancelQueued(live: Live, actor: string): void {
    for (const t of live.order) {
      if (t.status !== 'in_progress' || !t.commandId) continue;
      const cmd = this.#commands().store.get(t.commandId);
      if (cmd?.status === 'queued') this.#commands().cancel(t.commandId, actor);
    }
  }

  #dropIfDone(live: Live): void {
    if (!FINAL_CAMPAIGN_STATUSES.has(live.c.status)) return;
    if (live.order.some((t) => t.status === 'in_progress')) return;
    this.#live.delete(live.c.id);
    for (const t of live.order) if (t.commandId) this.#byCommand.delete(t.commandId);
  }

  // ---- what the gateway hears

  /** Command status changes (the event bus). A succeeded otaUpdate records the new firmware. */
  onEvent(e: GatewayEvent): void {
    if (e.type !== 'command' || e.name !== OTA) return;
    const status = e.status as CommandStatus;
    if (status === 'succeeded') this.#recordFirmware(e.commandId);
    const t = this.#byCommand.get(e.commandId);
    const live = t && this.#live.get(t.campaignId);
    if (!t || !live) return;
    const cmd = FINAL_STATUSES.has(status) ? this.#commands().store.get(e.commandId) : undefined;
    this.#fromCommand(live, t, status, cmd?.error ?? null);
  }

  #recordFirmware(commandId: string): void {
    const cmd = this.#commands().store.get(commandId);
    const version = cmd?.params.version;
    if (!cmd || typeof version !== 'string') return;
    const d = this.#ctx.devices.get(cmd.deviceId);
    if (d && d.firmware !== version)
      this.#ctx.devices
        .setFirmware(cmd.deviceId, version, cmd.requestedBy)
        .catch((err) =>
          this.#ctx.log.error(
            { err, deviceId: cmd.deviceId, version },
            'the new firmware could not be recorded',
          ),
        );
  }

  /** Progress a device reports in its state: `ota_command_id`, `ota_status`, `ota_progress_pct`. */
  onState(device: Device, state: Record<string, unknown>): void {
    const commandId = state.ota_command_id;
    if (typeof commandId !== 'string') return;
    const t = this.#byCommand.get(commandId);
    const live = t && this.#live.get(t.campaignId);
    if (!t || !live || t.deviceId !== device.id || t.status !== 'in_progress') return;
    const phase =
      typeof state.ota_status === 'string' && DEVICE_PHASES.has(state.ota_status) ? state.ota_status : null;
    const pct = Number(state.ota_progress_pct);
    const progress = Number.isFinite(pct) ? Math.min(100, Math.max(0, Math.round(pct))) : t.progress;
    if (phase === null && progress === t.progress) return;
    this.#moveTarget(live, t, 'in_progress', {
      phase:
        phase && phaseRank(phase as TargetPhase) >= phaseRank(t.phase) ? (phase as TargetPhase) : t.phase,
      progress,
    });
  }

  /** Events can be missed across a restart: read the commands of devices in flight back. */
  #reconcile(): void {
    if (this.#stopped) return;
    try {
      for (const live of [...this.#live.values()]) {
        for (const t of live.order) {
          if (t.status !== 'in_progress' || !t.commandId) continue;
          const cmd = this.#commands().store.get(t.commandId);
          if (cmd && FINAL_STATUSES.has(cmd.status)) {
            if (cmd.status === 'succeeded') this.#recordFirmware(cmd.id);
            this.#fromCommand(live, t, cmd.status, cmd.error);
          }
        }
        this.#tick(live);
        this.#dropIfDone(live);
      }
    } catch (err) {
      this.#ctx.log.error({ err }, 'campaign reconciliation failed');
    }
    this.#timer = this.#ctx.clock.setTimeout(() => this.#reconcile(), RECONCILE_MS);
  }

  #progressOf(
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

  #publish(live: Live, t: CampaignTarget | null): void {
    const { c } = live;
    const event: CampaignEvent = {
      type: 'campaign',
      at: this.#ctx.clock.now(),
      campaignId: c.id,
      name: c.name,
      status: c.status,
      reason: c.reason,
      device: t && { id: t.deviceId, status: t.status, phase: t.phase, progress: t.progress, error: t.error },
      ...this.#progressOf(c, live.counts),
    };
    this.#ctx.events.publish(event);
  }
}
