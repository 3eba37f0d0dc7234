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
import { type Command, type CommandStatus, FINAL_STATUSES } from '../../device-registry/commands.ts';
import type { Device } from '../../device-registry/devices.ts';
import type { FirmwareArtifact } from '../../device-registry/firmware-artifacts.ts';
import type { CommandService } from '../commands/command-service.ts';
import type { GatewayContext } from '../context.ts';
import type { GatewayEvent } from '../events/bus.ts';
import { isRelayed } from '../events/relayed-events.ts';
import type { ArtifactService } from '../firmware/artifact-service.ts';
import { KeyedQueue } from '../keyed-queue.ts';
import type { CampaignEvent, GroupProgress, TargetCounts } from './campaign-event.ts';
import { type GroupSpec, selectTargets, splitGroups } from './campaign-plan.ts';
import { countTargets, emptyCounts, progressOf } from './campaign-progress.ts';
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
  /** A device left its update: the thresholds are looked at again before the run settles. */
  again: boolean;
  artifact?: FirmwareArtifact | null;
}

const OTA = 'otaUpdate';
const RECONCILE_MS = 2000;
const DEVICE_PHASES: ReadonlySet<string> = new Set(['downloading', 'verifying', 'installing', 'rebooting']);
const phaseRank = (p: TargetPhase | null) => (p === null ? -1 : TARGET_PHASES.indexOf(p));
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * Firmware campaigns (docs/design.md, "Firmware campaigns"): devices updated group by group
 * through otaUpdate commands, the next group started once the previous reached its success
 * threshold, the campaign stopped when a group passes its error threshold. Every change is
 * written through the store, so a restarted gateway goes on where it was.
 *
 * In a cluster (`shared`) only the leader runs campaigns (start()..stop()); every node serves
 * the API from the store, and a change made on another node (a new campaign, pause, resume,
 * abort, a device's progress) reaches the leader through the store at its next reconciliation.
 */
export class CampaignEngine {
  readonly #ctx: GatewayContext;
  readonly #store: CampaignStore;
  readonly #artifacts: ArtifactService;
  readonly #commands: () => CommandService;
  readonly #downloadUrl: (artifactId: string, token: string) => string;
  readonly #shared: boolean;
  /** Campaigns that have not ended, or have devices still updating (on the running node only). */
  readonly #live = new Map<string, Live>();
  /** Changes to one campaign run one after another (each may wait for the store). */
  readonly #changes = new KeyedQueue();
  readonly #byCommand = new Map<string, CampaignTarget>();
  readonly #byToken = new Map<string, CampaignTarget>();
  #timer: unknown;
  #running = false;
  /** Bumped at every start and stop: a reconciliation of an earlier run sets no more timers. */
  #epoch = 0;

  constructor(deps: {
    ctx: GatewayContext;
    store: CampaignStore;
    artifacts: ArtifactService;
    commands: () => CommandService;
    downloadUrl: (artifactId: string, token: string) => string;
    /** The store is shared with other nodes (cluster mode). */
    shared?: boolean;
  }) {
    this.#ctx = deps.ctx;
    this.#store = deps.store;
    this.#artifacts = deps.artifacts;
    this.#commands = deps.commands;
    this.#downloadUrl = deps.downloadUrl;
    this.#shared = deps.shared ?? false;
  }

  artifactOf(id: string) {
    return this.#artifacts.store.get(id);
  }

  get store(): CampaignStore {
    return this.#store;
  }

  /** Before start (and, single-process, before the command service recovers): campaigns and devices in flight. */
  async load(): Promise<void> {
    for (const c of await this.#store.list()) {
      if (this.#live.has(c.id)) continue;
      const targets = await this.#store.targets(c.id);
      if (FINAL_CAMPAIGN_STATUSES.has(c.status) && !targets.some((t) => t.status === 'in_progress')) continue;
      this.#addLive(c, targets);
    }
  }

  start(): void {
    this.#running = true;
    const epoch = ++this.#epoch;
    void this.#reconcileEvery(epoch);
  }

  /** Stops running campaigns; in a cluster the next leader takes them over from the store. */
  stop(): void {
    this.#running = false;
    this.#epoch++;
    if (this.#timer !== undefined) this.#ctx.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#shared) return;
    this.#live.clear();
    this.#byCommand.clear();
    this.#byToken.clear();
  }

  #addLive(c: Campaign, targets: CampaignTarget[]): Live {
    const existing = this.#live.get(c.id);
    if (existing) return existing;
    const live: Live = {
      c,
      targets: new Map(targets.map((t) => [t.deviceId, t])),
      order: [...targets].sort((a, b) => a.group - b.group || (a.deviceId < b.deviceId ? -1 : 1)),
      cursor: 0,
      counts: c.groups.map(emptyCounts),
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

  /** Runs `fn` after the campaign's earlier changes; `fn` must not wait for #run of the same campaign. */
  #run<T>(live: Live, fn: () => Promise<T>): Promise<T> {
    return this.#changes.run(live.c.id, fn);
  }

  // ---- API (on every node)

  async create(input: NewCampaign, actor: string): Promise<Campaign> {
    const artifact = await this.#artifacts.require(input.artifactId);
    const busy = await this.#store.busyDevices();
    const devices = selectTargets(this.#ctx.devices.values(), artifact, input.selector, (id) => busy.has(id));
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
    await this.#store.create(c, targets);
    this.#ctx.audit.record(now, actor, 'campaign.create', c.id, {
      name: c.name,
      artifact: artifact.id,
      version: artifact.version,
      devices: devices.length,
      groups,
    });
    // In a cluster, a node that does not run campaigns leaves it to the leader (next reconciliation).
    if (this.#shared && !this.#running) {
      await this.#publishStored(c);
      return c;
    }
    const live = this.#addLive(c, targets);
    this.#publish(live, null);
    await this.#run(live, () => this.#settle(live));
    return live.c;
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

  async list(): Promise<Campaign[]> {
    return (await this.#store.list()).map((c) => this.#live.get(c.id)?.c ?? c);
  }

  async get(id: string): Promise<Campaign> {
    const c = this.#live.get(id)?.c ?? (await this.#store.get(id));
    if (!c) throw new CampaignNotFoundError(id);
    return c;
  }

  /** In a cluster from the store: devices on other nodes report their progress there. */
  async targets(id: string): Promise<CampaignTarget[]> {
    const live = this.#live.get(id);
    if (live && !this.#shared) return live.order;
    if (!live) await this.get(id);
    return this.#store.targets(id);
  }

  async progress(id: string): Promise<{ total: TargetCounts & { size: number }; groups: GroupProgress[] }> {
    const live = this.#live.get(id);
    if (live) return progressOf(live.c, live.counts);
    const c = await this.get(id);
    return progressOf(c, await this.#storedCounts(c));
  }

  async #storedCounts(c: Campaign): Promise<TargetCounts[]> {
    return countTargets(c, await this.#store.targets(c.id));
  }

  async pause(id: string, actor: string): Promise<Campaign> {
    return this.#change(id, ['running'], 'paused', `paused by ${actor}`, actor, 'be paused');
  }

  async resume(id: string, actor: string): Promise<Campaign> {
    return this.#change(id, ['paused'], 'running', null, actor, 'be resumed');
  }

  /** Queued commands are cancelled; devices already updating finish and are counted. */
  async abort(id: string, actor: string): Promise<Campaign> {
    return this.#change(id, ['running', 'paused'], 'aborted', `aborted by ${actor}`, actor, 'be aborted');
  }

  async #change(
    id: string,
    from: readonly Campaign['status'][],
    to: Campaign['status'],
    reason: string | null,
    actor: string,
    what: string,
  ): Promise<Campaign> {
    const live = this.#live.get(id);
    if (live)
      return this.#run(live, async () => {
        if (!from.includes(live.c.status) || !(await this.#setStatus(live, to, reason, actor)))
          throw new CampaignStateError(id, live.c.status, what);
        if (to === 'aborted') await this.#cancelQueued(live.order, actor);
        await this.#settle(live);
        return live.c;
      });
    // Not running here: the store decides, and the leader follows at its next reconciliation.
    const c = await this.#store.transition(id, from, to, reason, this.#ctx.clock.now());
    if (!c) throw new CampaignStateError(id, (await this.get(id)).status, what);
    this.#ctx.audit.record(c.updatedAt, actor, `campaign.${to}`, id, reason ? { reason } : undefined);
    if (to === 'aborted') await this.#cancelQueued(await this.#store.targets(id), actor);
    await this.#publishStored(c);
    return c;
  }

  /** A device's download token, for its campaign's artifact, while its update runs. */
  async grant(token: string, artifactId: string): Promise<boolean> {
    const hash = sha256(token);
    // Any node serves downloads: a token of a device another node started is in the store.
    const t = this.#byToken.get(hash) ?? (this.#shared ? await this.#store.targetByToken(hash) : undefined);
    if (t?.status !== 'in_progress') return false;
    const c =
      this.#live.get(t.campaignId)?.c ?? (this.#shared ? await this.#store.get(t.campaignId) : undefined);
    return c?.artifactId === artifactId;
  }

  async inUseBy(artifactId: string): Promise<string | undefined> {
    for (const live of this.#live.values()) if (live.c.artifactId === artifactId) return live.c.id;
    if (!this.#shared) return undefined;
    return (await this.#store.list({ status: ['running', 'paused'] })).find(
      (c) => c.artifactId === artifactId,
    )?.id;
  }

  // ---- the run

  #passedSuccess(live: Live, g: number): boolean {
    return live.counts[g].succeeded * 100 >= live.c.successThreshold * live.c.groups[g];
  }

  #passedError(live: Live, g: number): boolean {
    return live.counts[g].failed * 100 > live.c.errorThreshold * live.c.groups[g];
  }

  /** Starts what may start, stops what must stop, until nothing changes; then lets an ended campaign go. */
  async #settle(live: Live): Promise<void> {
    do {
      live.again = false;
      await this.#tickOnce(live);
    } while (live.again);
    this.#dropIfDone(live);
  }

  async #tickOnce(live: Live): Promise<void> {
    if (live.c.status !== 'running' || !this.#running) return;
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
      const reason = `group ${g + 1} passed its error threshold: ${failed} of ${c.groups[g]} failed (more than ${c.errorThreshold} %)`;
      if (await this.#setStatus(live, 'stopped', reason, 'gateway'))
        await this.#cancelQueued(live.order, 'gateway');
      return;
    }
    let inFlight = counts.reduce((s, k) => s + k.in_progress, 0);
    while (inFlight < c.concurrency && live.cursor < live.order.length && this.#running) {
      const t = live.order[live.cursor];
      if (t.status !== 'pending') {
        live.cursor++;
        continue;
      }
      if (t.group > current) break;
      live.cursor++;
      await this.#startTarget(live, t);
      // A device that failed at once: the thresholds are looked at again before the next start.
      if ((t.status as TargetStatus) !== 'in_progress') break;
      inFlight++;
    }
    const left = (k: TargetCounts) => k.pending + k.in_progress;
    if (current === n) {
      if (counts.every((k) => left(k) === 0)) await this.#setStatus(live, 'succeeded', null, 'gateway');
      return;
    }
    if (left(counts[current]) === 0)
      await this.#setStatus(
        live,
        'stopped',
        `group ${current + 1} ended with ${counts[current].succeeded} of ${c.groups[current]} updated, below its success threshold of ${c.successThreshold} %`,
        'gateway',
      );
  }

  async #startTarget(live: Live, t: CampaignTarget): Promise<void> {
    if (live.artifact === undefined)
      live.artifact = (await this.#artifacts.store.get(live.c.artifactId)) ?? null;
    const artifact = live.artifact;
    const token = randomBytes(32).toString('base64url');
    t.tokenHash = sha256(token);
    this.#byToken.set(t.tokenHash, t);
    // Stored before the command goes: any node may be asked for the download at once.
    await this.#moveTarget(live, t, 'in_progress', { phase: 'queued' });
    try {
      if (!artifact) throw new Error(`artifact ${live.c.artifactId} was deleted`);
      const { command } = await this.#commands().submit({
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
      await this.#fromCommand(live, t, command.status, command.error);
    } catch (err) {
      await this.#moveTarget(live, t, 'failed', { error: (err as Error).message });
    }
  }

  /** A command status, seen as an event or read back from the store. */
  async #fromCommand(
    live: Live,
    t: CampaignTarget,
    status: CommandStatus,
    error: string | null,
  ): Promise<void> {
    if (t.status !== 'in_progress') return;
    if (!FINAL_STATUSES.has(status)) {
      const phase = status as TargetPhase;
      if (phaseRank(phase) > phaseRank(t.phase)) await this.#moveTarget(live, t, 'in_progress', { phase });
      return;
    }
    if (status === 'succeeded') await this.#moveTarget(live, t, 'succeeded', { phase: null, progress: 100 });
    else if (status === 'cancelled')
      await this.#moveTarget(live, t, 'cancelled', { error: 'command cancelled' });
    else await this.#moveTarget(live, t, 'failed', { error: error ?? `command ${status}` });
  }

  async #moveTarget(
    live: Live,
    t: CampaignTarget,
    to: TargetStatus,
    extra: { phase?: TargetPhase | null; progress?: number | null; error?: string | null } = {},
  ): Promise<void> {
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
    await this.#store.saveTarget(t);
    this.#publish(live, t);
    if (from === 'in_progress' && to !== 'in_progress') live.again = true;
  }

  /** False when the stored status is no longer the one this node knew (another node changed it). */
  async #setStatus(
    live: Live,
    status: Campaign['status'],
    reason: string | null,
    actor: string,
  ): Promise<boolean> {
    const now = this.#ctx.clock.now();
    const stored = await this.#store.transition(live.c.id, [live.c.status], status, reason, now);
    if (!stored) {
      await this.#follow(live);
      return false;
    }
    live.c.status = status;
    live.c.reason = reason;
    live.c.updatedAt = now;
    this.#ctx.audit.record(now, actor, `campaign.${status}`, live.c.id, reason ? { reason } : undefined);
    this.#publish(live, null);
    this.#dropIfDone(live);
    return true;
  }

  /** Takes the stored status (changed on another node): an abort cancels what is still queued. */
  async #follow(live: Live): Promise<void> {
    const stored = await this.#store.get(live.c.id);
    if (!stored || stored.status === live.c.status) return;
    Object.assign(live.c, { status: stored.status, reason: stored.reason, updatedAt: stored.updatedAt });
    if (stored.status === 'aborted' || stored.status === 'stopped')
      await this.#cancelQueued(live.order, 'gateway');
    this.#publish(live, null);
    live.again = true;
  }

  async #cancelQueued(targets: readonly CampaignTarget[], actor: string): Promise<void> {
    for (const t of targets) {
      if (t.status !== 'in_progress' || !t.commandId) continue;
      try {
        const cmd = await this.#commands().store.get(t.commandId);
        if (cmd?.status === 'queued') await this.#commands().cancel(t.commandId, actor);
      } catch (err) {
        // Sent meanwhile: the device goes on and is counted.
        this.#ctx.log.debug({ err, commandId: t.commandId }, 'campaign command not cancelled');
      }
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
  async onEvent(e: GatewayEvent): Promise<void> {
    if (e.type !== 'command' || e.name !== OTA) return;
    const status = e.status as CommandStatus;
    // A final state is final: read once, for the firmware and for the campaign's counts.
    const cmd = FINAL_STATUSES.has(status) ? await this.#commands().store.get(e.commandId) : null;
    // The node where it succeeded records the firmware; another node's relay of it need not.
    if (status === 'succeeded' && cmd && !isRelayed(e)) await this.#recordFirmware(cmd);
    const t = this.#byCommand.get(e.commandId);
    const live = t && this.#live.get(t.campaignId);
    if (!t || !live) return;
    await this.#run(live, async () => {
      await this.#fromCommand(live, t, status, cmd?.error ?? null);
      await this.#settle(live);
    });
  }

  async #recordFirmware(cmd: Command): Promise<void> {
    const version = cmd.params.version;
    if (typeof version !== 'string') return;
    try {
      const d = this.#ctx.devices.get(cmd.deviceId);
      if (d && d.firmware !== version)
        await this.#ctx.devices.setFirmware(cmd.deviceId, version, cmd.requestedBy);
    } catch (err) {
      this.#ctx.log.error({ err, deviceId: cmd.deviceId, version }, 'the new firmware could not be recorded');
    }
  }

  /** Progress a device reports in its state: `ota_command_id`, `ota_status`, `ota_progress_pct`. */
  async onState(device: Device, state: Record<string, unknown>): Promise<void> {
    const commandId = state.ota_command_id;
    if (typeof commandId !== 'string') return;
    const mine = this.#byCommand.get(commandId);
    const live = mine && this.#live.get(mine.campaignId);
    // In a cluster the device may report to a node that does not run its campaign: the store
    // (only while the device says it is updating: a state it keeps after the update costs nothing).
    const updating = typeof state.ota_status === 'string' && DEVICE_PHASES.has(state.ota_status);
    const t = live
      ? mine
      : this.#shared && updating
        ? await this.#store.targetByCommand(commandId)
        : undefined;
    if (!t || t.deviceId !== device.id || t.status !== 'in_progress') return;
    const phase =
      typeof state.ota_status === 'string' && DEVICE_PHASES.has(state.ota_status)
        ? (state.ota_status as TargetPhase)
        : null;
    const pct = Number(state.ota_progress_pct);
    const progress = Number.isFinite(pct) ? Math.min(100, Math.max(0, Math.round(pct))) : t.progress;
    if (phase === null && progress === t.progress) return;
    const next = phase && phaseRank(phase) >= phaseRank(t.phase) ? phase : t.phase;
    if (!live) {
      await this.#store.saveProgress(t.campaignId, t.deviceId, next, progress, this.#ctx.clock.now());
      return;
    }
    await this.#run(live, async () => {
      if (t.status === 'in_progress')
        await this.#moveTarget(live, t, 'in_progress', { phase: next, progress });
    });
  }

  async #reconcileEvery(epoch: number): Promise<void> {
    if (epoch !== this.#epoch) return;
    await this.#reconcile();
    if (epoch === this.#epoch)
      this.#timer = this.#ctx.clock.setTimeout(() => void this.#reconcileEvery(epoch), RECONCILE_MS);
  }

  /**
   * Events can be missed (across a restart, or heard by another node): the commands of devices
   * in flight are read back. In a cluster, campaigns created or changed elsewhere are taken up.
   */
  async #reconcile(): Promise<void> {
    try {
      if (this.#shared) await this.#takeUpNew();
      for (const live of [...this.#live.values()]) {
        await this.#run(live, async () => {
          if (this.#shared) await this.#follow(live);
          for (const t of live.order) {
            if (t.status !== 'in_progress' || !t.commandId) continue;
            const cmd = await this.#commands().store.get(t.commandId);
            if (cmd && FINAL_STATUSES.has(cmd.status)) {
              if (cmd.status === 'succeeded') await this.#recordFirmware(cmd);
              await this.#fromCommand(live, t, cmd.status, cmd.error);
            }
          }
          await this.#settle(live);
        });
      }
    } catch (err) {
      this.#ctx.log.error({ err }, 'campaign reconciliation failed');
    }
  }

  async #takeUpNew(): Promise<void> {
    for (const c of await this.#store.list({ status: ['running', 'paused'] })) {
      if (this.#live.has(c.id)) continue;
      const targets = await this.#store.targets(c.id);
      // Created on this node meanwhile: the first one in stays.
      if (!this.#live.has(c.id)) this.#addLive(c, targets);
    }
  }

  /** A change made on a node that does not run the campaign, for this node's event stream. */
  async #publishStored(c: Campaign): Promise<void> {
    this.#ctx.events.publish(this.#event(c, await this.#storedCounts(c), null));
  }

  #publish(live: Live, t: CampaignTarget | null): void {
    this.#ctx.events.publish(this.#event(live.c, live.counts, t));
  }

  #event(c: Campaign, counts: TargetCounts[], t: CampaignTarget | null): CampaignEvent {
    return {
      type: 'campaign',
      at: this.#ctx.clock.now(),
      campaignId: c.id,
      name: c.name,
      status: c.status,
      reason: c.reason,
      device: t && { id: t.deviceId, status: t.status, phase: t.phase, progress: t.progress, error: t.error },
      ...progressOf(c, counts),
    };
  }
}
