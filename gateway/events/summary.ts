import { deviceStatus } from '../../device-registry/devices.ts';
import { FAMILIES } from '../../firmware-specs/families.ts';
import { SEVERITIES, type Severity } from '../alarms/types.ts';
import type { GatewayContext } from '../context.ts';
import { counterValue } from '../metrics.ts';
import type { GatewayEvent } from './bus.ts';

export type OpenAlarmCounts = () => Record<Severity, number>;

export const noOpenAlarms: OpenAlarmCounts = () =>
  Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;

type Summary = Extract<GatewayEvent, { type: 'summary' }>;

/** Readings per second are averaged over this long: devices that report every few seconds, often
 * in step, would make a one-second figure jump between nothing and a burst. */
const RATE_WINDOW_MS = 10_000;

/**
 * The once-a-second city summary: readings/s (accepted readings, from the metrics counter, over
 * the last RATE_WINDOW_MS, or since the first summary when it is younger), devices online/offline/disabled per family, open alarms by
 * severity (from the alarm service once it is wired; zeros until then).
 */
export class SummaryPublisher {
  readonly #ctx: GatewayContext;
  readonly #everyMs: number;
  #openAlarms: OpenAlarmCounts = noOpenAlarms;
  #timer: unknown = null;
  /** The counter at each summary of the window, oldest first. */
  readonly #samples: Array<{ at: number; accepted: number }> = [];

  constructor(ctx: GatewayContext, everyMs: number) {
    this.#ctx = ctx;
    this.#everyMs = everyMs;
  }

  set openAlarmCounts(fn: OpenAlarmCounts) {
    this.#openAlarms = fn;
  }

  start(): void {
    this.#schedule();
  }

  stop(): void {
    if (this.#timer !== null) this.#ctx.clock.clearTimeout(this.#timer);
    this.#timer = null;
  }

  #schedule(): void {
    this.#timer = this.#ctx.clock.setTimeout(() => {
      this.publish()
        .catch((err) => this.#ctx.log.error({ err }, 'summary failed; the next one in a second'))
        .finally(() => this.#timer !== null && this.#schedule());
    }, this.#everyMs);
  }

  async publish(): Promise<Summary> {
    const { clock, devices, metrics, events } = this.#ctx;
    const accepted = await counterValue(metrics.accepted);
    const at = clock.now();
    // Keep one sample at or before the window's start, so the rate spans the whole window.
    while (this.#samples.length > 1 && this.#samples[1].at <= at - RATE_WINDOW_MS) this.#samples.shift();
    const first = this.#samples[0];
    const elapsed = first ? (at - first.at) / 1000 : 0;
    const readingsPerSecond =
      first && elapsed > 0 ? Math.round(((accepted - first.accepted) / elapsed) * 10) / 10 : 0;
    this.#samples.push({ at, accepted });
    const perFamily: Summary['devices'] = {};
    for (const f of FAMILIES) perFamily[f] = { online: 0, offline: 0, disabled: 0 };
    // O(devices) a second; the registry's cache is in memory, so no database round-trip.
    for (const d of devices.values()) {
      perFamily[d.family] ??= { online: 0, offline: 0, disabled: 0 };
      perFamily[d.family][deviceStatus(d)]++;
    }
    const summary: Summary = {
      type: 'summary',
      at,
      readingsPerSecond,
      devices: perFamily,
      openAlarms: { ...noOpenAlarms(), ...this.#openAlarms() },
    };
    events.publish(summary);
    return summary;
  }
}
