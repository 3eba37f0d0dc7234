import type { CredentialResult, DeviceStore } from '../device-registry/devices.ts';
import type { Clock } from './clock.ts';

/**
 * Why a CONNECT was refused before its secret was checked:
 * - banned: the address failed too often and is banned for a while;
 * - backoff: the address failed past the back-off threshold and must wait before the next try;
 * - addressBusy: the address already has its share of credential checks waiting or running;
 * - idBusy: the device id is under attack and already runs its one check for an address that
 *   has failed before.
 */
export const THROTTLE_REASONS = {
  banned: 'banned',
  backoff: 'backoff',
  addressBusy: 'address_busy',
  idBusy: 'id_busy',
} as const;
export type ThrottleReason = (typeof THROTTLE_REASONS)[keyof typeof THROTTLE_REASONS];

export type AuthOutcome = { result: CredentialResult } | { throttled: ThrottleReason };

export interface AuthThrottleOptions {
  devices: Pick<DeviceStore, 'hasVerified' | 'verifyCredentials'>;
  clock: Clock;
  windowMs: number;
  failuresBeforeBackoff: number;
  failuresBeforeBan: number;
  banMs: number;
  pendingPerAddress: number;
  /** Entries kept per table (addresses, ids); the oldest go first past it. */
  maxEntries?: number;
}

interface Tally {
  windowStart: number;
  failures: number;
  lastFailureAt: number;
  bannedUntil: number;
  pending: number;
  /** A device logged in from here (the address is shared, e.g. NAT). */
  succeeded: boolean;
}

/**
 * Failed CONNECTs throttled per source address and per device id, as EMQX's flapping detection
 * does: failures are counted in a window; past a threshold the address backs off (refused at
 * once, no scrypt, the wait doubling with each further failure), past a second one it is banned.
 *
 * A device id is never banned: that would let anyone lock a real device out by flooding its id.
 * A secret this process has verified before is checked by its HMAC (VerifiedSecrets), cheaply and
 * before any of this, so a real device reconnects whatever floods its id or shares its address.
 * A device id under attack (past the back-off threshold) gets one scrypt check at a time for
 * addresses that have failed before; an address with a clean record is still checked at once,
 * so a device whose secret is not yet remembered (first connection after a restart) gets in
 * from its own address while others flood its id.
 */
export class AuthThrottle {
  readonly #o: Required<AuthThrottleOptions>;
  readonly #addresses = new Map<string, Tally>();
  readonly #ids = new Map<string, Tally>();

  constructor(opts: AuthThrottleOptions) {
    this.#o = { maxEntries: 100_000, ...opts };
  }

  /**
   * A banned address from which no device has logged in: its connections can be dropped on
   * accept, before any MQTT work. An address that a real device also uses (NAT) is refused at
   * CONNECT instead, where a remembered secret still gets in.
   */
  dropOnAccept(address: string): boolean {
    const r = this.#addresses.get(address);
    return r !== undefined && r.bannedUntil > this.#o.clock.now() && !r.succeeded;
  }

  async verify(address: string, id: string, secret: string): Promise<AuthOutcome> {
    const { devices } = this.#o;
    const now = this.#o.clock.now();
    const addr = this.#record(this.#addresses, address, now);
    if (devices.hasVerified(id, secret)) {
      addr.succeeded = true;
      return { result: await devices.verifyCredentials(id, secret) };
    }
    if (addr.bannedUntil > now) return { throttled: THROTTLE_REASONS.banned };
    if (addr.failures >= this.#o.failuresBeforeBackoff) {
      const waitMs = Math.min(1000 * 2 ** (addr.failures - this.#o.failuresBeforeBackoff), this.#o.windowMs);
      if (now < addr.lastFailureAt + waitMs) {
        this.#fail(addr, now, true);
        return { throttled: addr.bannedUntil > now ? THROTTLE_REASONS.banned : THROTTLE_REASONS.backoff };
      }
    }
    // Many checks at once are a reconnect storm (behind NAT, after a restart) until the address
    // has failed: those wait in the scrypt queue's burst lane. After a failure they are a flood:
    // capped, and counted.
    if (addr.failures > 0 && addr.pending >= this.#o.pendingPerAddress) {
      this.#fail(addr, now, true);
      return { throttled: addr.bannedUntil > now ? THROTTLE_REASONS.banned : THROTTLE_REASONS.addressBusy };
    }
    // Device ids are at most 128 characters: a longer one (up to 64 KB on the wire) is no device's,
    // and is kept by its first 129 only, so the table's memory stays bounded.
    const dev = this.#record(this.#ids, id.length > 128 ? id.slice(0, 129) : id, now);
    const failedBefore = addr.failures > 0;
    if (failedBefore && dev.failures >= this.#o.failuresBeforeBackoff && dev.pending > 0)
      return { throttled: THROTTLE_REASONS.idBusy };
    // An address's first two checks at once are ordinary; more at once are a burst, served when
    // no ordinary check waits; a failing address's run one at a time behind everyone.
    const suspect = failedBefore;
    const burst = !failedBefore && addr.pending >= 2;

    addr.pending++;
    if (failedBefore) dev.pending++;
    try {
      const banned = () => addr.bannedUntil > this.#o.clock.now();
      const result = await devices.verifyCredentials(id, secret, { suspect, burst, cancelled: banned });
      if (result === 'busy' && banned()) return { throttled: THROTTLE_REASONS.banned };
      if (result === 'ok' || result === 'disabled') addr.succeeded = true;
      const at = this.#o.clock.now();
      if (result === 'unknown' || result === 'bad' || result === 'noSecret') {
        this.#fail(addr, at, true);
        this.#fail(dev, at, false);
      }
      return { result };
    } finally {
      addr.pending--;
      if (failedBefore) dev.pending--;
    }
  }

  #fail(r: Tally, now: number, canBan: boolean): void {
    if (now - r.windowStart > this.#o.windowMs) {
      r.windowStart = now;
      r.failures = 0;
    }
    r.failures++;
    r.lastFailureAt = now;
    if (canBan && r.failures >= this.#o.failuresBeforeBan) r.bannedUntil = now + this.#o.banMs;
  }

  /** The key's record; a window that ended (and a ban that ran out) starts again from zero. */
  #record(table: Map<string, Tally>, key: string, now: number): Tally {
    let r = table.get(key);
    if (r && r.pending === 0 && r.bannedUntil <= now && now - r.windowStart > this.#o.windowMs) {
      table.delete(key);
      r = undefined;
    }
    if (!r) {
      if (table.size >= this.#o.maxEntries) this.#prune(table, now);
      r = { windowStart: now, failures: 0, lastFailureAt: 0, bannedUntil: 0, pending: 0, succeeded: false };
      table.set(key, r);
    }
    return r;
  }

  /**
   * Drops ended records; if too few ended, the oldest (insertion order) go, down to 90 % so that
   * a distributed flood does not pay a full scan per CONNECT.
   */
  #prune(table: Map<string, Tally>, now: number): void {
    for (const [key, r] of table)
      if (r.pending === 0 && r.bannedUntil <= now && now - r.windowStart > this.#o.windowMs)
        table.delete(key);
    for (const key of table.keys()) {
      if (table.size < this.#o.maxEntries * 0.9) break;
      table.delete(key);
    }
  }
}
