import { createHash, randomBytes } from 'node:crypto';
import type { Db } from './db.ts';

export const ROLES = { viewer: 1, operator: 2, admin: 3 } as const;
export type Role = keyof typeof ROLES;

export interface Principal {
  id: string;
  name: string;
  role: Role;
}

// API tokens are 256-bit random strings, so a fast hash is enough to keep them unreadable at rest.
const digest = (token: string) => createHash('sha256').update(token).digest('base64url');

export class TokenStore {
  readonly #db: Db;
  readonly #cache = new Map<string, Principal | null>();

  constructor(db: Db) {
    this.#db = db;
  }

  create(
    name: string,
    role: Role,
    createdBy: string,
    now: number,
    token = `cg_${randomBytes(32).toString('base64url')}`,
  ) {
    const id = `tok_${randomBytes(6).toString('hex')}`;
    this.#db
      .prepare('INSERT INTO tokens (id, name, role, hash, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?)')
      .run(id, name, role, digest(token), now, createdBy);
    return { id, name, role, token };
  }

  /** Makes sure the given admin token exists (CITYGATE_ADMIN_TOKEN or the generated one). */
  ensureAdmin(token: string, now: number): void {
    if (this.verify(token)) return;
    this.#cache.delete(digest(token));
    this.create('admin', 'admin', 'system', now, token);
  }

  verify(token: string): Principal | null {
    const h = digest(token);
    const hit = this.#cache.get(h);
    if (hit !== undefined) return hit;
    const row = this.#db
      .prepare('SELECT id, name, role FROM tokens WHERE hash = ? AND revoked_at IS NULL')
      .get(h) as Principal | undefined;
    const principal = row ?? null;
    if (principal) this.#cache.set(h, principal);
    return principal;
  }

  list(): Array<Principal & { createdAt: number; createdBy: string; revokedAt: number | null }> {
    return this.#db
      .prepare(
        'SELECT id, name, role, created_at AS createdAt, created_by AS createdBy, revoked_at AS revokedAt FROM tokens ORDER BY created_at',
      )
      .all() as never;
  }

  revoke(id: string, now: number): boolean {
    const changed = this.#db
      .prepare('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL')
      .run(now, id);
    this.#cache.clear();
    return changed.changes > 0;
  }
}
