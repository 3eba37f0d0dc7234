import { randomBytes } from 'node:crypto';
import type {
  AlarmFilter,
  AlarmHistoryEntry,
  AlarmRecord,
  AlarmStore,
} from '../../device-registry/alarms.ts';
import type { DeviceStore } from '../../device-registry/devices.ts';
import type { Clock } from '../clock.ts';
import { isoTime as iso } from '../clock.ts';
import type { ClusterBus } from '../cluster/cluster-bus.ts';
import type { EventBus } from '../events/bus.ts';
import { markRelayed } from '../events/relayed-events.ts';
import { KeyedQueue } from '../keyed-queue.ts';
import type { Logger } from '../logger.ts';
import { AlarmBusyError, AlarmNotFoundError } from './errors.ts';
import * as lifecycle from './lifecycle.ts';
import { OpenAlarmFigure } from './open-alarm-figure.ts';
import type { AlarmSignal, AlarmTransition, AlarmView, Severity } from './types.ts';

/** Who moves an alarm when no person does: the rule engine and shelving expiry. */
export const SYSTEM_ACTOR = 'system';

/** Tries of a step whose alarm another node moved meanwhile; each try reads the alarm again. */
const MAX_TRIES = 5;

export function alarmView(a: AlarmRecord): AlarmView {
  return {
    ...a,
    raisedAt: iso(a.raisedAt),
    updatedAt: iso(a.updatedAt),
    acknowledgedAt: iso(a.acknowledgedAt),
    clearedAt: iso(a.clearedAt),
    shelvedUntil: iso(a.shelvedUntil),
  };
}

export interface AlarmServiceDeps {
  store: AlarmStore;
  devices: DeviceStore;
  clock: Clock;
  log: Logger;
  events: EventBus;
  /** The other nodes (issue 11): told of each transition, and telling us of theirs. */
  cluster: ClusterBus;
  onTransition?(transition: AlarmTransition): void;
}

/** A step to take on the alarm as it is now; null when there is nothing to do. */
type StepOn = (a: AlarmRecord) => lifecycle.Step | null;

const keyOf = (deviceId: string, ruleId: string) => `${deviceId}\u0000${ruleId}`;

/**
 * The alarm lifecycle over a store: signals from the rule engine and operators' acts become
 * transitions, each saved with its actor and time, then published on the event bus. Only
 * transitions touch the database; the engine evaluates readings in memory. Steps of one alarm
 * run in order; with several nodes on one database (issue 11) a step saved on a row another node
 * moved meanwhile is refused by the store, and taken again on the row as it now is.
 */
export class AlarmService {
  readonly #d: AlarmServiceDeps;
  /** Shelving expiry timers by alarm id, with the time each is set for (ISA-18.2: always time-limited). */
  readonly #shelfTimers = new Map<string, { timer: unknown; until: number }>();
  readonly #queue = new KeyedQueue();
  readonly #open: OpenAlarmFigure;

  constructor(deps: AlarmServiceDeps) {
    this.#d = deps;
    this.#open = new OpenAlarmFigure(() => deps.store.countOpen());
    deps.cluster.subscribe('alarm.changed', ({ id }) => this.#relay(id));
  }

  get store(): AlarmStore {
    return this.#d.store;
  }

  /** From the engine, on the ingest path: queued, and a failure is logged, never thrown into ingest. */
  signal(s: AlarmSignal): void {
    this.#queue
      .run(keyOf(s.deviceId, s.ruleId), () => this.#signal(s))
      .catch((err) => this.#d.log.error({ err, signal: s }, 'alarm signal not recorded'));
  }

  async acknowledge(id: string, actor: string): Promise<AlarmView> {
    return this.#act(id, actor, (a) => lifecycle.acknowledge(a, actor, this.#d.clock.now()));
  }

  async shelve(id: string, actor: string, minutes: number, reason: string): Promise<AlarmView> {
    return this.#act(id, actor, (a) => {
      const now = this.#d.clock.now();
      return lifecycle.shelve(a, actor, now, now + minutes * 60_000, reason);
    });
  }

  async unshelve(id: string, actor: string): Promise<AlarmView> {
    return this.#act(id, actor, (a) => lifecycle.unshelve(a, this.#d.clock.now(), null));
  }

  async get(id: string): Promise<{ alarm: AlarmView; history: AlarmHistoryEntry[] }> {
    const alarm = alarmView(await this.#require(id));
    return { alarm, history: await this.#d.store.history(id) };
  }

  async list(filter: AlarmFilter): Promise<{ total: number; alarms: AlarmView[] }> {
    const { total, alarms } = await this.#d.store.list(filter);
    return { total, alarms: alarms.map(alarmView) };
  }

  /** Alarms not closed, by severity; in one district when given. From memory, never the database. */
  openBySeverity(district?: string): Record<Severity, number> {
    return this.#open.bySeverity(district);
  }

  /** After a restart: shelving timers again, the open-alarm figure, and the alarms whose condition held. */
  async recover(): Promise<Array<{ deviceId: string; ruleId: string }>> {
    await this.sweep();
    return this.#d.store.active();
  }

  /**
   * Reads what other nodes may have changed: the open-alarm figure, and a shelving timer for every
   * shelved alarm, so a shelf expires even when the node that shelved it has died.
   */
  async sweep(): Promise<void> {
    await this.#open.refresh();
    for (const { id, shelvedUntil } of await this.#d.store.shelved())
      if (this.#shelfTimers.get(id)?.until !== shelvedUntil) this.#scheduleUnshelve(id, shelvedUntil);
  }

  /** Cancels the shelving timers and waits for the steps under way. */
  async stop(): Promise<void> {
    for (const { timer } of this.#shelfTimers.values()) this.#d.clock.clearTimeout(timer);
    this.#shelfTimers.clear();
    await this.#queue.idle();
  }

  async #signal(s: AlarmSignal): Promise<void> {
    for (let tries = 0; tries < MAX_TRIES; tries++) {
      const open = await this.#d.store.openFor(s.deviceId, s.ruleId);
      let step: lifecycle.Step | null;
      if (s.kind === 'clear') step = lifecycle.clear(open, s);
      else {
        const device = this.#d.devices.get(s.deviceId);
        step = device ? lifecycle.raise(open, s, device, this.#newId()) : null;
      }
      // A refused new alarm met one another node raised meanwhile: the next try repeats it.
      if (!step || (await this.#apply(step, SYSTEM_ACTOR, open ?? null))) return;
    }
    this.#d.log.warn({ signal: s }, 'alarm signal dropped: the alarm kept changing under it');
  }

  /** An operator's act (or shelving expiry): the step is taken on the alarm as stored, in its turn. */
  async #act(id: string, actor: string, stepOn: StepOn): Promise<AlarmView> {
    const first = await this.#require(id);
    return this.#queue.run(keyOf(first.deviceId, first.ruleId), async () => {
      for (let tries = 0; tries < MAX_TRIES; tries++) {
        const a = await this.#require(id);
        // The lifecycle throws when the act no longer fits (another node acknowledged it first).
        const step = stepOn(a);
        if (!step) return alarmView(a);
        const view = await this.#apply(step, actor, a);
        if (view) return view;
      }
      throw new AlarmBusyError(id);
    });
  }

  async #require(id: string): Promise<AlarmRecord> {
    const a = await this.#d.store.get(id);
    if (!a) throw new AlarmNotFoundError(id);
    return a;
  }

  #newId(): string {
    return `alm_${this.#d.clock.now().toString(36)}${randomBytes(5).toString('hex')}`;
  }

  /** Saves the step if `prev` is still the stored alarm; null (nothing done) when it is not. */
  async #apply(step: lifecycle.Step, actor: string, prev: AlarmRecord | null): Promise<AlarmView | null> {
    const { alarm, transition, detail } = step;
    const entry = { at: alarm.updatedAt, transition, state: alarm.state, actor, detail };
    if (!(await this.#d.store.save(alarm, entry, prev))) return null;
    this.#followShelf(alarm);
    this.#d.onTransition?.(transition);
    // Before the event: whoever reacts to it reads a figure that includes it. The step is saved
    // already, so a failed count only leaves the figure to the next refresh.
    await this.#open.refresh().catch((err) => this.#d.log.warn({ err }, 'open-alarm figure not refreshed'));
    const view = alarmView(alarm);
    this.#d.events.publish({ type: 'alarm', at: alarm.updatedAt, transition, actor, alarm: view });
    this.#d.cluster.publish('alarm.changed', { id: alarm.id });
    return view;
  }

  /** Another node moved an alarm: show it on this node's live events, and follow its shelving. */
  #relay(id: string): void {
    this.#queue
      .run(`relay\u0000${id}`, async () => {
        const [alarm, [last]] = await Promise.all([this.#d.store.get(id), this.#d.store.history(id, 1)]);
        await this.#open.refresh();
        if (!alarm || !last) return;
        this.#followShelf(alarm);
        const view = alarmView(alarm);
        this.#d.events.publish(
          markRelayed({
            type: 'alarm',
            at: last.at,
            transition: last.transition,
            actor: last.actor,
            alarm: view,
          }),
        );
      })
      .catch((err) => this.#d.log.error({ err, alarm: id }, 'alarm changed on another node not shown'));
  }

  #followShelf(a: AlarmRecord): void {
    if (a.shelvedUntil === null) this.#cancelUnshelve(a.id);
    else if (this.#shelfTimers.get(a.id)?.until !== a.shelvedUntil)
      this.#scheduleUnshelve(a.id, a.shelvedUntil);
  }

  #scheduleUnshelve(id: string, until: number): void {
    this.#cancelUnshelve(id);
    const timer = this.#d.clock.setTimeout(
      () => {
        this.#shelfTimers.delete(id);
        // Every node holds this timer; the first to save wins, the others find it unshelved.
        this.#act(id, SYSTEM_ACTOR, (a) => {
          if (a.shelvedUntil === null) return null;
          if (a.shelvedUntil > this.#d.clock.now()) {
            this.#scheduleUnshelve(id, a.shelvedUntil);
            return null;
          }
          return lifecycle.unshelve(a, this.#d.clock.now(), 'shelving expired');
        }).catch((err) => this.#d.log.error({ err, alarm: id }, 'shelving expiry not recorded'));
      },
      Math.max(0, until - this.#d.clock.now()),
    );
    this.#shelfTimers.set(id, { timer, until });
  }

  #cancelUnshelve(id: string): void {
    const t = this.#shelfTimers.get(id);
    if (t === undefined) return;
    this.#d.clock.clearTimeout(t.timer);
    this.#shelfTimers.delete(id);
  }
}
