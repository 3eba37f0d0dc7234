import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateToken, type TokenStore } from '../device-registry/tokens.ts';

/** What every TokenStore does (SQLite, PostgreSQL): the same suite against each. */
export function tokenStoreContract(
  name: string,
  open: () => Promise<{ store: TokenStore; close(): Promise<void> }>,
) {
  describe(`TokenStore contract: ${name}`, () => {
    let store: TokenStore;
    let close: () => Promise<void>;
    beforeAll(async () => {
      ({ store, close } = await open());
    });
    afterAll(() => close());

    it('creates a token shown once, verifies it by its hash, refuses it once revoked', async () => {
      const created = await store.create('ops', 'operator', 'admin', 1000);
      expect(created.token).toMatch(/^cg_/);
      expect(await store.verify(created.token)).toEqual({ id: created.id, name: 'ops', role: 'operator' });
      expect(await store.verify(`${created.token}x`)).toBeNull();
      const listed = (await store.list()).find((t) => t.id === created.id);
      expect(listed).toEqual({
        id: created.id,
        name: 'ops',
        role: 'operator',
        createdAt: 1000,
        createdBy: 'admin',
        revokedAt: null,
        bootstrap: false,
      });
      expect(JSON.stringify(await store.list())).not.toContain(created.token);
      expect(await store.revoke(created.id, 2000)).toBe(true);
      expect(await store.revoke(created.id, 3000)).toBe(false);
      expect(await store.revoke('tok_nope', 3000)).toBe(false);
      expect(await store.verify(created.token)).toBeNull();
      expect((await store.list()).find((t) => t.id === created.id)?.revokedAt).toBe(2000);
    });

    it('bootstraps the admin token: a new one retires the previous bootstrap, API tokens stay', async () => {
      const first = generateToken();
      expect(await store.ensureBootstrap(first, 10, 'env', 'fix it')).toEqual([]);
      expect(await store.verify(first)).toMatchObject({ name: 'admin', role: 'admin' });
      expect(await store.ensureBootstrap(first, 11, 'env', 'fix it')).toEqual([]);
      const api = await store.create('viewer', 'viewer', 'admin', 12);
      const second = generateToken();
      const retired = await store.ensureBootstrap(second, 20, 'env', 'fix it');
      expect(retired).toHaveLength(1);
      expect(await store.verify(first)).toBeNull();
      expect(await store.verify(second)).toMatchObject({ role: 'admin' });
      expect(await store.verify(api.token)).toMatchObject({ role: 'viewer' });
      const bootstraps = (await store.list()).filter((t) => t.bootstrap && t.revokedAt === null);
      expect(bootstraps).toHaveLength(1);
    });

    it('refuses to bootstrap a token revoked through the API, with a coded error', async () => {
      const token = generateToken();
      await store.ensureBootstrap(token, 30, 'env', 'fix it');
      const [row] = (await store.list()).filter((t) => t.bootstrap && t.revokedAt === null);
      await store.revoke(row.id, 31);
      await expect(store.ensureBootstrap(token, 32, 'env', 'set a new one')).rejects.toMatchObject({
        code: 'REG_ERR_ADMIN_TOKEN_REVOKED',
      });
    });
  });
}
