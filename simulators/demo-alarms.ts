import type { ModelSpec } from '../firmware-specs/define-device.ts';
import { defaultRules } from '../gateway/alarms/rules.ts';
import type { EventBus } from '../gateway/events/bus.ts';
import type { GatewayApi } from './load/gateway-api.ts';

/**
 * The demo's alarms (issue 9, item 9). The demo plays the city `accelerate` times faster than the
 * wall clock while alarm delays and mean windows run on readings' wall-clock times, so it scales
 * every rule to match through model overrides (PUT /api/alarm-rules/overrides/model/...), and
 * prints each alarm transition as it happens. Counter jumps are not alarmed in an accelerated demo
 * (the readings are still tagged `counter_check="jump"`).
 */
export async function scaleAlarmRules(
  api: GatewayApi,
  specs: ReadonlyMap<string, ModelSpec>,
  accelerate: number,
): Promise<{ scaled: number; failed: string | null }> {
  let scaled = 0;
  for (const spec of specs.values()) {
    for (const rule of defaultRules(spec.family)) {
      if (rule.offline) continue;
      const body: Record<string, unknown> = {
        onDelaySeconds: Math.round(rule.onDelaySeconds / accelerate),
        offDelaySeconds: Math.round(rule.offDelaySeconds / accelerate),
      };
      if (rule.params.windowMinutes) body.params = { windowMinutes: rule.params.windowMinutes / accelerate };
      // The simulated counters integrate simulated time, so they run `accelerate` times faster
      // than any real meter or lamp could against the readings' wall-clock times.
      if (rule.id === 'counter_jump' && accelerate > 1) body.enabled = false;
      const path = `/api/alarm-rules/overrides/model/${encodeURIComponent(spec.id)}/${rule.id}`;
      const res = await api.call('PUT', path, body);
      if (res.status >= 300)
        return { scaled, failed: `${res.status} ${JSON.stringify(res.body).slice(0, 200)}` };
      scaled++;
    }
  }
  return { scaled, failed: null };
}

/** Prints alarm transitions from the gateway's event bus; returns the unsubscribe. */
export function printAlarms(
  events: EventBus | undefined,
  say: (line: string) => void,
  simulatedClock: () => string,
): () => void {
  if (!events) {
    say('alarms: this gateway has no event bus; alarm transitions are not printed');
    return () => {};
  }
  return events.subscribe((e) => {
    if (e.type !== 'alarm' || e.transition === 'repeated') return;
    const a = e.alarm;
    say(
      `alarm: [Hanoi ${simulatedClock()}] ${e.transition} ${a.severity} ${a.deviceId} (${a.district}) ` +
        `${a.ruleId}: ${a.message}${e.actor && e.actor !== 'system' ? ` by ${e.actor}` : ''}`,
    );
  });
}
