import type { OpenAlarmCount } from '../../device-registry/alarms.ts';
import { SEVERITIES, type Severity } from './types.ts';

const none = () => Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;

/**
 * Open alarms by district and severity, held in memory: the summary reads it every second and
 * the district views on demand, synchronously, so it never costs them a database round-trip. It
 * is refreshed from the store after each transition of this node and, in a cluster, periodically
 * and when another node reports one (issue 11).
 */
export class OpenAlarmFigure {
  readonly #load: () => Promise<OpenAlarmCount[]>;
  #byDistrict = new Map<string, Record<Severity, number>>();
  #total = none();
  #running: Promise<void> | null = null;
  #next: Promise<void> | null = null;

  constructor(load: () => Promise<OpenAlarmCount[]>) {
    this.#load = load;
  }

  bySeverity(district?: string): Record<Severity, number> {
    return { ...(district === undefined ? this.#total : (this.#byDistrict.get(district) ?? none())) };
  }

  /**
   * Resolves once a load that began after this call has landed. Calls during a load share the one
   * load after it, so a burst of transitions costs two queries, not one each.
   */
  refresh(): Promise<void> {
    if (this.#running === null) {
      this.#running = this.#reload().finally(() => {
        this.#running = null;
      });
      return this.#running;
    }
    this.#next ??= this.#running.then(
      () => this.#again(),
      () => this.#again(),
    );
    return this.#next;
  }

  #again(): Promise<void> {
    this.#next = null;
    return this.refresh();
  }

  async #reload(): Promise<void> {
    const rows = await this.#load();
    const byDistrict = new Map<string, Record<Severity, number>>();
    const total = none();
    for (const { district, severity, n } of rows) {
      const d = byDistrict.get(district) ?? none();
      byDistrict.set(district, d);
      d[severity] += n;
      total[severity] += n;
    }
    this.#byDistrict = byDistrict;
    this.#total = total;
  }
}
