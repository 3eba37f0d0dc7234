/**
 * Alarm management measures the operations centre watches (issue 9):
 * - chattering (ISA-18.2 / IEC 62682: an alarm raised 3 or more times in 60 s), counted per
 *   episode of one device and rule;
 * - flood (EEMUA 191: more than 10 alarms per operator in 10 minutes is a flood), from raises
 *   counted in one-minute buckets.
 */
export const CHATTER_RAISES = 3;
export const CHATTER_WINDOW_MS = 60_000;
export const FLOOD_WINDOW_MS = 10 * 60_000;
export const FLOOD_PER_OPERATOR = 10;

const MINUTE = 60_000;
const BUCKETS = FLOOD_WINDOW_MS / MINUTE;

export interface AlarmMeasureStats {
  /** Chattering episodes since start (a device and rule raised 3 times within 60 s). */
  chattering: number;
  /** Raises in the last 10 minutes (EEMUA 191's alarm rate). */
  raisedLast10Minutes: number;
  /** True while the rate is past the flood threshold. */
  flood: boolean;
  /** Floods since start. */
  floods: number;
}

/** The raise times of one device and rule, for the chattering test; lives in the rule's state. */
export interface RaiseHistory {
  raises: number[];
  chattering: boolean;
}

export class AlarmMeasures {
  readonly #floodAt: number;
  readonly #ids = new Float64Array(BUCKETS).fill(-1);
  readonly #counts = new Uint32Array(BUCKETS);
  #chattering = 0;
  #floods = 0;
  #flood = false;

  constructor(opts: { operators?: number } = {}) {
    this.#floodAt = FLOOD_PER_OPERATOR * (opts.operators ?? 1);
  }

  /** Records a raise; true when it makes the alarm chatter. */
  raised(history: RaiseHistory, at: number): boolean {
    const minute = Math.floor(at / MINUTE);
    const slot = minute % BUCKETS;
    if (this.#ids[slot] !== minute) {
      this.#ids[slot] = minute;
      this.#counts[slot] = 0;
    }
    this.#counts[slot]++;
    const rate = this.#rate(at);
    if (rate > this.#floodAt && !this.#flood) this.#floods++;
    this.#flood = rate > this.#floodAt;

    const recent = history.raises.filter((t) => at - t < CHATTER_WINDOW_MS);
    recent.push(at);
    history.raises = recent.slice(-CHATTER_RAISES);
    const chatters = recent.length >= CHATTER_RAISES;
    if (chatters && !history.chattering) this.#chattering++;
    history.chattering = chatters;
    return chatters;
  }

  #rate(at: number): number {
    const minute = Math.floor(at / MINUTE);
    let n = 0;
    for (let i = 0; i < BUCKETS; i++) if (this.#ids[i] > minute - BUCKETS) n += this.#counts[i];
    return n;
  }

  stats(at: number): AlarmMeasureStats {
    const rate = this.#rate(at);
    this.#flood = rate > this.#floodAt;
    return {
      chattering: this.#chattering,
      raisedLast10Minutes: rate,
      flood: this.#flood,
      floods: this.#floods,
    };
  }
}
