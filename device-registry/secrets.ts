import { createHash, createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { ScryptQueueFullError } from './errors.ts';

/**
 * Device secrets: 256-bit random tokens, stored only as hashes. New secrets get a plain SHA-256
 * (`sha256$hash`): a 256-bit random value cannot be guessed, so a slow KDF buys nothing and would
 * cost a 100,000-device import minutes (docs/security.md, "Device secrets"). Hashes written
 * before are scrypt (`scrypt$N$r$p$salt$hash`) and still verify; a successful login rewrites
 * them as SHA-256.
 */
export const DEFAULT_SCRYPT_COST = 16384;
const SHA256_PREFIX = 'sha256$';

export function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** `count` secrets from one draw of the CSPRNG: an import of 100,000 costs one call, not 100,000. */
export function generateSecrets(count: number): string[] {
  const bytes = randomBytes(32 * count);
  return Array.from({ length: count }, (_, i) => bytes.subarray(i * 32, i * 32 + 32).toString('base64url'));
}

function scryptAsync(secret: string, salt: Buffer, N: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(secret, salt, 32, { N, r, p, maxmem: 256 * N * r }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

export async function hashSecret(secret: string, cost = DEFAULT_SCRYPT_COST): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(secret, salt, cost, 8, 1);
  return `scrypt$${cost}$8$1$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** The hash of a generated (256-bit random) secret: fast enough for an import of 100,000. */
export function hashGeneratedSecret(secret: string): string {
  return SHA256_PREFIX + createHash('sha256').update(secret).digest('base64url');
}

/** A SHA-256 hash is checked at once, off any queue; only a scrypt hash needs the scrypt queue. */
export function isFastHash(stored: string): boolean {
  return stored.startsWith(SHA256_PREFIX);
}

/** Constant-time check of a `sha256$` hash; false for any other kind. */
export function verifyFastSecret(secret: string, stored: string): boolean {
  if (!isFastHash(stored)) return false;
  const expected = Buffer.from(stored.slice(SHA256_PREFIX.length), 'base64url');
  const key = createHash('sha256').update(secret).digest();
  return key.length === expected.length && timingSafeEqual(key, expected);
}

export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  if (isFastHash(stored)) return verifyFastSecret(secret, stored);
  const [alg, n, r, p, salt, hash] = stored.split('$');
  if (alg !== 'scrypt' || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const key = await scryptAsync(secret, Buffer.from(salt, 'base64url'), Number(n), Number(r), Number(p));
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/**
 * Remembers secrets already verified in this process, as a keyed HMAC (never the secret), so a
 * reconnecting fleet does not cost one scrypt per device per reconnect.
 */
export class VerifiedSecrets {
  readonly #key = randomBytes(32);
  readonly #verified = new Map<string, string>();

  #mac(deviceId: string, secret: string): string {
    return createHmac('sha256', this.#key).update(deviceId).update('\0').update(secret).digest('base64');
  }

  has(deviceId: string, secret: string): boolean {
    return this.#verified.get(deviceId) === this.#mac(deviceId, secret);
  }

  remember(deviceId: string, secret: string): void {
    this.#verified.set(deviceId, this.#mac(deviceId, secret));
  }

  forget(deviceId: string): void {
    this.#verified.delete(deviceId);
  }
}

/**
 * A stored hash no secret matches: unknown ids and ids without a secret are checked against it,
 * so a refusal takes as long whether or not the id exists (no enumeration). SHA-256, like the
 * hash of every secret generated now; an id still on a scrypt hash is slower to refuse until
 * its device logs in once (and its hash is rewritten).
 */
export function unmatchableHash(): string {
  return SHA256_PREFIX + randomBytes(32).toString('base64url');
}

/**
 * scrypt verifications, at most `concurrency` at once (libuv's thread pool has 4 threads; more
 * would only queue there, out of sight) and at most `limit` waiting. Past that a check is refused
 * at once instead of making every CONNACK wait behind a flood.
 *
 * Three lanes, served in order. Ordinary checks first. Then a burst from one address that has not
 * failed (beyond its first two checks at once: a reconnect storm behind NAT, or a flood that has
 * not failed yet): it may use every thread the ordinary lane leaves free, so a well-behaved device
 * waits behind at most one scrypt of it. Last, suspect checks (from an address that failed
 * recently): one at a time, so a flood costs one thread and never starves the event loop.
 */
const LANES = ['normal', 'burst', 'suspect'] as const;
type Lane = (typeof LANES)[number];

export class ScryptQueue {
  readonly #concurrency: number;
  readonly #limit: number;
  readonly #waiting: Record<Lane, Array<() => void>> = { normal: [], burst: [], suspect: [] };
  #active = 0;
  #activeSuspect = 0;

  constructor(opts: { concurrency?: number; limit?: number } = {}) {
    this.#concurrency = opts.concurrency ?? 4;
    this.#limit = opts.limit ?? 512;
  }

  /**
   * Runs `fn` in turn; throws ScryptQueueFullError when the queue is full, or when `cancelled`
   * says, once its turn has come, that the check is no longer wanted (its address got banned).
   */
  async run<T>(
    fn: () => Promise<T>,
    opts: { suspect?: boolean; burst?: boolean; cancelled?: () => boolean } = {},
  ): Promise<T> {
    const lane: Lane = opts.suspect ? 'suspect' : opts.burst ? 'burst' : 'normal';
    if (this.#mayStart(lane)) {
      this.#take(lane);
    } else {
      const w = this.#waiting;
      if (w.normal.length + w.burst.length + w.suspect.length >= this.#limit)
        throw new ScryptQueueFullError(this.#limit);
      // #next() takes the slot for us before it wakes us.
      await new Promise<void>((resolve) => this.#waiting[lane].push(resolve));
    }
    try {
      if (opts.cancelled?.()) throw new ScryptQueueFullError(this.#limit);
      return await fn();
    } finally {
      this.#active--;
      if (lane === 'suspect') this.#activeSuspect--;
      this.#next();
    }
  }

  #mayStart(lane: Lane): boolean {
    if (this.#active >= this.#concurrency) return false;
    if (lane === 'normal') return true;
    if (this.#waiting.normal.length > 0) return false;
    if (lane === 'burst') return true;
    return this.#waiting.burst.length === 0 && this.#activeSuspect === 0;
  }

  #take(lane: Lane): void {
    this.#active++;
    if (lane === 'suspect') this.#activeSuspect++;
  }

  #next(): void {
    for (const lane of LANES) {
      if (this.#waiting[lane].length > 0 && this.#mayStart(lane)) {
        this.#take(lane);
        this.#waiting[lane].shift()!();
        return;
      }
    }
  }
}
