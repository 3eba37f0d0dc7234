import { createHash, randomBytes } from 'node:crypto';
import type { Db } from './db.ts';
import { AdminTokenRevokedError } from './errors.ts';

export const ROLES = { viewer: 1, operator: 2, admin: 3 } as const;
export type Role = keyof typeof ROLES;

export interface Principal {
  id: string;
  name: string;
  role: Role;
}

export interface TokenInfo extends Principal {
  createdAt: number;
  createdBy: string;
  revokedAt: number | null;
  bootstrap: boolean;
}

/** API tokens: SqliteTokenStore in one process, PgTokenStore (pg/pg-tokens.ts) in a cluster. */
export interface TokenStore {
  create(
    name: string,
    role: Role,
    createdBy: string,
    now: number,
  ): Promise<{ id: string; name: string; role: Role; token: string }>;
  /**
   * Makes `token` the bootstrap admin (CITYGATE_ADMIN_TOKEN or the generated one) and retires
   * every other bootstrap token: changing the variable is how an operator rotates it. Tokens made
   * through the API are not touched. A token revoked through the API stays revoked: the start
   * fails with a coded error saying what to do (`from` names where the token came from). An
   * API-made token put into CITYGATE_ADMIN_TOKEN becomes the bootstrap one. Returns the ids retired.
   */
  ensureBootstrap(token: string, now: number, from: string, remedy: string): Promise<string[]>;
  /** The token's holder, or null when it is unknown or revoked. */
  verify(token: string): Promise<Principal | null>;
  list(): Promise<TokenInfo[]>;
  revoke(id: string, now: number): Promise<boolean>;
}

// API tokens are 256-bit random strings, so a fast hash is enough to keep them unreadable at rest.
export const digestToken = (token: string) => createHash('sha256').update(token).digest('base64url');

/** A new random token, as create() makes them. */
export const generateToken = () => `cg_${randomBytes(32).toString('base64url')}`;
export const newTokenId = () => `tok_${randomBytes(6).toString('hex')}`;

export class SqliteTokenStore implements TokenStore {
  readonly #db: Db;
  readonly #cache = new Map<string, Principal | null>();

  constructor(db: Db) {
    this.#db = db;
  }

  async create(name: string, role: Role, createdBy: string, now: number) {
    return this.#create(name, role, createdBy, now, generateToken(), false);
  }

  #create(name: string, role: Role, createdBy: string, now: number, token: string, bootstrap: boolean) {
    const id = newTokenId();
    this.#db
      .prepare(
        'INSERT INTO tokens (id, name, role, hash, created_at, created_by, bootstrap) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(id, name, role, digestToken(token), now, createdBy, bootstrap ? 1 : 0);
    return { id, name, role, token };
  }

  async ensureBootstrap(token: string, now: number, from: string, remedy: string): Promise<string[]> {
    const hash = digestToken(token);
    const retired = this.#db.transaction(() => {
      const row = this.#db.prepare('SELECT id, revoked_at FROM tokens WHERE hash = ?').get(hash) as
        | { id: string; revoked_at: number | null }
        | undefined;
      if (row?.revoked_at != null) throw new AdminTokenRevokedError(from, row.id, remedy);
      if (row) this.#db.prepare('UPDATE tokens SET bootstrap = 1 WHERE id = ?').run(row.id);
      else this.#create('admin', 'admin', 'system', now, token, true);
      const stale = this.#db
        .prepare('SELECT id FROM tokens WHERE bootstrap = 1 AND revoked_at IS NULL AND hash != ?')
        .all(hash) as Array<{ id: string }>;
      for (const { id } of stale)
        this.#db.prepare('UPDATE tokens SET revoked_at = ? WHERE id = ?').run(now, id);
      return stale.map((s) => s.id);
    })();
    this.#cache.clear();
    return retired;
  }

  async verify(token: string): Promise<Principal | null> {
    const h = digestToken(token);
    const hit = this.#cache.get(h);
    if (hit !== undefined) return hit;
    const row = this.#db
      .prepare('SELECT id, name, role FROM tokens WHERE hash = ? AND revoked_at IS NULL')
      .get(h) as Principal | undefined;
    const principal = row ?? null;
    if (principal) this.#cache.set(h, principal);
    return principal;
  }

  async list(): Promise<TokenInfo[]> {
    const rows = this.#db
      .prepare(
        'SELECT id, name, role, created_at AS createdAt, created_by AS createdBy, revoked_at AS revokedAt, bootstrap FROM tokens ORDER BY created_at',
      )
      .all() as Array<
      Principal & { createdAt: number; createdBy: string; revokedAt: number | null; bootstrap: number }
    >;
    return rows.map((r) => ({ ...r, bootstrap: r.bootstrap === 1 }));
  }

  async revoke(id: string, now: number): Promise<boolean> {
    const changed = this.#db
      .prepare('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL')
      .run(now, id);
    this.#cache.clear();
    return changed.changes > 0;
  }
}
