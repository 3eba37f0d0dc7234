import type { StoredDevice } from './device-rows.ts';
import type { CredentialResult, Device } from './device-types.ts';
import { ScryptQueueFullError } from './errors.ts';
import {
  isFastHash,
  ScryptQueue,
  unmatchableHash,
  VerifiedSecrets,
  verifyFastSecret,
  verifySecret,
} from './secrets.ts';

/**
 * The devices' MQTT secrets, in memory: a CONNECT is checked without a database round-trip.
 * Holds each device's current hash, a rotated secret's previous hash while its grace lasts, and
 * the secrets already verified in this process.
 */
export class DeviceCredentials {
  readonly #hashes = new Map<string, string | null>();
  /** A rotated secret's previous hash and until when it still works (epoch ms). */
  readonly #previous = new Map<string, { hash: string; until: number }>();
  readonly #verified = new VerifiedSecrets();
  readonly #scrypt: ScryptQueue;
  readonly #unmatchable = unmatchableHash();
  readonly #clock: { now(): number };

  constructor(opts: { scryptQueue?: number; clock: { now(): number } }) {
    this.#scrypt = new ScryptQueue({ limit: opts.scryptQueue });
    this.#clock = opts.clock;
  }

  /** Takes the row's credentials; a changed hash forgets what was verified against the old one. */
  set(stored: Pick<StoredDevice, 'secretHash' | 'previous'> & { id: string }): void {
    const { id } = stored;
    if (this.#hashes.has(id) && this.#hashes.get(id) !== stored.secretHash) this.#verified.forget(id);
    this.#hashes.set(id, stored.secretHash);
    if (stored.previous) this.#previous.set(id, stored.previous);
    else this.#previous.delete(id);
  }

  /** The same secret, now kept as `hash`: what was verified stays verified. */
  rehashed(id: string, hash: string): void {
    this.#hashes.set(id, hash);
  }

  hash(id: string): string | null | undefined {
    return this.#hashes.get(id);
  }

  /** A previous secret stops working at once (disabled, decommissioned, rotated without grace). */
  forget(id: string): void {
    this.#verified.forget(id);
  }

  hasVerified(id: string, secret: string): boolean {
    return this.#verified.has(id, secret);
  }

  /**
   * Unknown ids and ids without a secret are checked against a hash no secret matches, of the
   * same kind as a known id's: the refusal takes as long either way, so ids cannot be enumerated.
   * SHA-256 hashes are checked at once; only a scrypt hash (from before issue 12) takes a turn in
   * the scrypt queue, and `rehash` is called once its secret matched.
   */
  async verify(
    d: Device | undefined,
    id: string,
    secret: string,
    opts: { suspect?: boolean; burst?: boolean; cancelled?: () => boolean },
    rehash: (id: string, old: string, secret: string) => void,
  ): Promise<CredentialResult> {
    const hash = d ? this.#hashes.get(id) : undefined;
    if (d && hash && this.#verified.has(id, secret)) return d.enabled ? 'ok' : 'disabled';
    const stored = hash ?? this.#unmatchable;
    const previous = this.#livePrevious(id);
    let match: 'current' | 'previous' | null;
    if (isFastHash(stored) && (!previous || isFastHash(previous))) {
      match = verifyFastSecret(secret, stored)
        ? 'current'
        : previous && verifyFastSecret(secret, previous)
          ? 'previous'
          : null;
    } else {
      try {
        match = await this.#scrypt.run(async () => {
          if (await verifySecret(secret, stored)) return 'current' as const;
          return previous && (await verifySecret(secret, previous)) ? ('previous' as const) : null;
        }, opts);
      } catch (err) {
        if (err instanceof ScryptQueueFullError) return 'busy';
        throw err;
      }
    }
    if (!d) return 'unknown';
    if (d.decommissionedAt) return 'decommissioned';
    if (!hash) return 'noSecret';
    if (!match) return 'bad';
    // The previous secret is checked each time, so that it stops working when its grace ends.
    if (match === 'current') {
      this.#verified.remember(id, secret);
      if (!isFastHash(stored)) rehash(id, stored, secret);
    }
    return d.enabled ? 'ok' : 'disabled';
  }

  #livePrevious(id: string): string | undefined {
    const p = this.#previous.get(id);
    if (!p) return undefined;
    if (p.until > this.#clock.now()) return p.hash;
    this.#previous.delete(id);
    return undefined;
  }
}
