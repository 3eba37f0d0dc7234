import type { CommandStore } from '../../device-registry/commands.ts';
import type { Clock } from '../../gateway/clock.ts';
import type { EventBus } from '../../gateway/events/bus.ts';

/**
 * The lighting programs' clock in the demo: simulated time (`patternTime`) that runs `factor`
 * times faster than the wall, with timers shortened to match, so a night passes in minutes.
 */
export function acceleratedClock(factor: number, patternTime: (wallMs: number) => number): Clock {
  return {
    now: () => patternTime(Date.now()),
    setTimeout: (fn, ms) => {
      const t = setTimeout(fn, Math.max(0, ms / factor));
      t.unref?.();
      return t;
    },
    clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  };
}

/**
 * Prints lamps as the programs switch and dim them: once a second, how many lamps reached
 * which level (from the command events of setDimming that succeeded), at simulated Hanoi time.
 */
export function printLighting(
  events: EventBus,
  store: CommandStore,
  say: (line: string) => void,
  hanoiTime: () => string,
): () => void {
  const reached = new Map<string, number>();
  const unsubscribe = events.subscribe(async (e) => {
    if (e.type !== 'command' || e.name !== 'setDimming' || e.status !== 'succeeded') return;
    const c = await store.get(e.commandId);
    if (!c) return;
    const key = `${(c.params as { level: number }).level}|${c.requestedBy}`;
    reached.set(key, (reached.get(key) ?? 0) + 1);
  });
  const timer = setInterval(() => {
    for (const [key, n] of reached) {
      const [level, by] = key.split('|');
      const what = level === '0' ? 'switched off' : level === '100' ? 'on at 100 %' : `dimmed to ${level} %`;
      say(`lighting: [Hanoi ${hanoiTime()}] ${n} lamp${n === 1 ? '' : 's'} ${what} (${by})`);
    }
    reached.clear();
  }, 1000);
  timer.unref();
  return () => {
    unsubscribe();
    clearInterval(timer);
  };
}
