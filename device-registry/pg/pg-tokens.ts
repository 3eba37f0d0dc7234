import { AdminTokenRevokedError } from '../errors.ts';
import {
  digestToken,
  generateToken,
  newTokenId,
  type Principal,
  type Role,
  type TokenInfo,
  type TokenStore,
} from '../tokens.ts';
import { inTransaction, type PgPool, type PgQueryable } from './pg-db.ts';

/** Serializes the bootstrap of nodes starting together (pg_advisory_xact_lock key). */
const BOOTSTRAP_LOCK = 'citygate:tokens:bootstrap';

/**
 * API tokens on PostgreSQL. verify() asks the database on every API request (an index lookup by
 * hash), so a token revoked through one node is refused by every node at once; API requests are
 * not the hot path.
 */
export class PgTokenStore implements TokenStore {
  readonly #pool: PgPool;

  constructor(pool: PgPool) {
    this.#pool = pool;
  }

  async create(name: string, role: Role, createdBy: string, now: number) {
    return insertToken(this.#pool, name, role, createdBy, now, generateToken(), false);
  }

  async ensureBootstrap(token: string, now: number, from: string, remedy: string): Promise<string[]> {
    const hash = digestToken(token);
    return inTransaction(this.#pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [BOOTSTRAP_LOCK]);
      const { rows } = await client.query<{ id: string; revoked_at: number | null }>(
        'SELECT id, revoked_at FROM tokens WHERE hash = $1',
        [hash],
      );
      const row = rows[0];
      if (row && row.revoked_at !== null) throw new AdminTokenRevokedError(from, row.id, remedy);
      if (row) await client.query('UPDATE tokens SET bootstrap = 1 WHERE id = $1', [row.id]);
      else await insertToken(client, 'admin', 'admin', 'system', now, token, true);
      const stale = await client.query<{ id: string }>(
        'UPDATE tokens SET revoked_at = $1 WHERE bootstrap = 1 AND revoked_at IS NULL AND hash <> $2 RETURNING id',
        [now, hash],
      );
      return stale.rows.map((s) => s.id);
    });
  }

  async verify(token: string): Promise<Principal | null> {
    const { rows } = await this.#pool.query<Principal>(
      'SELECT id, name, role FROM tokens WHERE hash = $1 AND revoked_at IS NULL',
      [digestToken(token)],
    );
    return rows[0] ?? null;
  }

  async list(): Promise<TokenInfo[]> {
    const { rows } = await this.#pool.query<Omit<TokenInfo, 'bootstrap'> & { bootstrap: number }>(
      `SELECT id, name, role, created_at AS "createdAt", created_by AS "createdBy",
         revoked_at AS "revokedAt", bootstrap FROM tokens ORDER BY created_at, id`,
    );
    return rows.map((r) => ({ ...r, bootstrap: r.bootstrap === 1 }));
  }

  async revoke(id: string, now: number): Promise<boolean> {
    const { rowCount } = await this.#pool.query(
      'UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL',
      [now, id],
    );
    return (rowCount ?? 0) > 0;
  }
}

async function insertToken(
  db: PgQueryable,
  name: string,
  role: Role,
  createdBy: string,
  now: number,
  token: string,
  bootstrap: boolean,
) {
  const id = newTokenId();
  await db.query(
    'INSERT INTO tokens (id, name, role, hash, created_at, created_by, bootstrap) VALUES ($1, $2, $3, $4, $5, $6, $7)',
    [id, name, role, digestToken(token), now, createdBy, bootstrap ? 1 : 0],
  );
  return { id, name, role, token };
}
