import { Counter, Gauge, type Registry } from 'prom-client';
import type { AlarmStore } from '../../device-registry/alarms.ts';
import { FAMILIES } from '../../firmware-specs/families.ts';
import type { Clock } from '../clock.ts';
import { type AlarmTransition, SEVERITIES } from './types.ts';

/** EEMUA 191's flood window: more than 10 alarms in 10 minutes is more than an operator can handle. */
export const FLOOD_WINDOW_MS = 10 * 60_000;

/**
 * The alarm metrics on the gateway's registry. Gauges are computed from the store when scraped
 * (asynchronously: on PostgreSQL in a cluster), so nothing is counted on the ingest path.
 */
export function registerAlarmMetrics(
  registry: Registry,
  deps: { store: AlarmStore; clock: Clock; chattering(): number },
) {
  const transitions = new Counter({
    name: 'citygate_alarm_transitions_total',
    help: 'Alarm lifecycle transitions',
    labelNames: ['transition'],
    registers: [registry],
  });
  new Gauge({
    name: 'citygate_alarms_active',
    help: 'Alarms whose condition holds (acknowledged or not), by severity and family',
    labelNames: ['severity', 'family'],
    registers: [registry],
    async collect(this: Gauge) {
      const counts = await deps.store.countActive();
      // Every pair is set, so a severity that drops to none reads 0 instead of vanishing.
      for (const severity of SEVERITIES) for (const family of FAMILIES) this.set({ severity, family }, 0);
      for (const { severity, family, n } of counts) this.set({ severity, family }, n);
    },
  });
  let chatteringSeen = 0;
  new Counter({
    name: 'citygate_alarms_chattering_total',
    help: 'Alarm conditions the rule engine found chattering (raising and clearing too often)',
    registers: [registry],
    collect(this: Counter) {
      const now = deps.chattering();
      if (now > chatteringSeen) this.inc(now - chatteringSeen);
      chatteringSeen = Math.max(chatteringSeen, now);
    },
  });
  new Gauge({
    name: 'citygate_alarm_flood',
    help: 'Alarms raised or repeated in the last 10 minutes (EEMUA 191: over 10 is a flood)',
    registers: [registry],
    async collect(this: Gauge) {
      this.set(
        await deps.store.countTransitionsSince(deps.clock.now() - FLOOD_WINDOW_MS, ['raised', 'repeated']),
      );
    },
  });
  const children = new Map<AlarmTransition, Counter.Internal>();
  return {
    transition(t: AlarmTransition): void {
      let c = children.get(t);
      if (!c) {
        c = transitions.labels({ transition: t });
        children.set(t, c);
      }
      c.inc();
    },
  };
}
