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
import type { EventBus } from '../events/bus.ts';
import type { Logger } from '../logger.ts';
import { AlarmNotFoundError } from './errors.ts';
import * as lifecycle from './lifecycle.ts';
import type { AlarmSignal, AlarmTransition, AlarmView, Severity } from './types.ts';

/** Who moves an alarm when no person does: the rule engine and shelving expiry. */
export const SYSTEM_ACTOR = 'system';

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
  onTransition?(transition: AlarmTransition): void;
}

/**
 * The alarm lifecycle over a store: signals from the rule engine and operators' acts become
 * transitions, each saved with its actor and time, then published on the event bus. Only
 * transitions touch the database; the engine evaluates readings in memory.
 */
export class AlarmService {
  readonly #d: AlarmServiceDeps;
  /** Shelving expiry timers by alarm id (ISA-18.2: shelving is always time-limited). */
  readonly #shelfTimers = new Map<string, unknown>();

  constructor(deps: AlarmServiceDeps) {
    this.#d = deps;
  }

  get store(): AlarmStore {
    return this.#d.store;
  }

  /** From the engine, on the ingest path: a failure is logged, never thrown back into ingest. */
  signal(s: AlarmSignal): void {
    try {
      const open = this.#d.store.openFor(s.deviceId, s.ruleId);
      if (s.kind === 'clear') {
        const step = lifecycle.clear(open, s);
        if (step) this.#apply(step, SYSTEM_ACTOR);
        return;
      }
      const device = this.#d.devices.get(s.deviceId);
      if (!device) return;
      this.#apply(lifecycle.raise(open, s, device, this.#newId()), SYSTEM_ACTOR);
    } catch (err) {
      this.#d.log.error({ err, signal: s }, 'alarm signal not recorded');
    }
  }

  acknowledge(id: string, actor: string): AlarmView {
    return this.#apply(lifecycle.acknowledge(this.#require(id), actor, this.#d.clock.now()), actor);
  }

  shelve(id: string, actor: string, minutes: number, reason: string): AlarmView {
    const now = this.#d.clock.now();
    return this.#apply(
      lifecycle.shelve(this.#require(id), actor, now, now + minutes * 60_000, reason),
      actor,
    );
  }

  unshelve(id: string, actor: string): AlarmView {
    return this.#apply(lifecycle.unshelve(this.#require(id), this.#d.clock.now(), null), actor);
  }

  get(id: string): { alarm: AlarmView; history: AlarmHistoryEntry[] } {
    return { alarm: alarmView(this.#require(id)), history: this.#d.store.history(id) };
  }

  list(filter: AlarmFilter): { total: number; alarms: AlarmView[] } {
    const { total, alarms } = this.#d.store.list(filter);
    return { total, alarms: alarms.map(alarmView) };
  }

  /** Alarms not closed, by severity. */
  openBySeverity(district?: string): Record<Severity, number> {
    return this.#d.store.countOpen(district);
  }

  /** After a restart: shelving timers again, and the alarms whose condition held (for the engine). */
  recover(): Array<{ deviceId: string; ruleId: string }> {
    for (const { id, shelvedUntil } of this.#d.store.shelved()) this.#scheduleUnshelve(id, shelvedUntil);
    return this.#d.store.active();
  }

  stop(): void {
    for (const t of this.#shelfTimers.values()) this.#d.clock.clearTimeout(t);
    this.#shelfTimers.clear();
  }

  #require(id: string): AlarmRecord {
    const a = this.#d.store.get(id);
    if (!a) throw new AlarmNotFoundError(id);
    return a;
  }

  #newId(): string {
    return `alm_${this.#d.clock.now().toString(36)}${randomBytes(5).toString('hex')}`;
  }

  #apply(step: lifecycle.Step, actor: string): AlarmView {
    const { alarm, transition, detail } = step;
    this.#d.store.save(alarm, { at: alarm.updatedAt, transition, state: alarm.state, actor, detail });
    if (alarm.shelvedUntil === null) this.#cancelUnshelve(alarm.id);
    else if (transition === 'shelved') this.#scheduleUnshelve(alarm.id, alarm.shelvedUntil);
    this.#d.onTransition?.(transition);
    const view = alarmView(alarm);
    this.#d.events.publish({ type: 'alarm', at: alarm.updatedAt, transition, actor, alarm: view });
    return view;
  }

  #scheduleUnshelve(id: string, until: number): void {
    this.#cancelUnshelve(id);
    const timer = this.#d.clock.setTimeout(
      () => {
        this.#shelfTimers.delete(id);
        const a = this.#d.store.get(id);
        if (!a || a.shelvedUntil === null) return;
        this.#apply(lifecycle.unshelve(a, this.#d.clock.now(), 'shelving expired'), SYSTEM_ACTOR);
      },
      Math.max(0, until - this.#d.clock.now()),
    );
    this.#shelfTimers.set(id, timer);
  }

  #cancelUnshelve(id: string): void {
    const t = this.#shelfTimers.get(id);
    if (t === undefined) return;
    this.#d.clock.clearTimeout(t);
    this.#shelfTimers.delete(id);
  }
}
