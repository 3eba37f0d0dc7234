export interface Reason {
  /** Field path in the raw payload, `$` for the whole of it, `[3].dim` in an array. */
  path: string;
  message: string;
}

/** Reasons kept per refused payload; past it, one "and N more". */
export const MAX_REASONS = 20;
/** Refused readings of one payload that zod explains; later ones get a short reason. */
export const EXPLAINED_READINGS = 5;
/** Paths and messages quote device-chosen keys and values: kept short. */
const MAX_TEXT = 200;

const clip = (s: string) => (s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT)}…` : s);

/**
 * The reasons one payload was refused, bounded: a payload of thousands of bad readings costs
 * a few explanations and a count, not thousands of zod error trees and quarantine rows.
 */
export class Rejection {
  readonly #reasons: Reason[] = [];
  #more = 0;
  /** Refused readings (array elements) of the payload. */
  readings = 0;

  /** Whether the next refused reading is worth a full explanation. */
  get explaining(): boolean {
    return this.readings < EXPLAINED_READINGS;
  }

  add(reasons: readonly Reason[]): void {
    this.readings++;
    for (const r of reasons) {
      if (this.#reasons.length < MAX_REASONS)
        this.#reasons.push({ path: clip(r.path), message: clip(r.message) });
      else this.#more++;
    }
  }

  get reasons(): Reason[] {
    return this.#more ? [...this.#reasons, { path: '$', message: `and ${this.#more} more` }] : this.#reasons;
  }
}
