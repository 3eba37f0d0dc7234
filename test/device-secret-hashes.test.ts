import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { hashSecret } from '../device-registry/secrets.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';

const hashOf = (dataDir: string, id: string) => {
  const db = new Database(join(dataDir, 'registry.db'), { readonly: true });
  try {
    return (db.prepare('SELECT secret_hash FROM devices WHERE id = ?').get(id) as { secret_hash: string })
      .secret_hash;
  } finally {
    db.close();
  }
};

describe('device secret hashes (issue 12): SHA-256 for new secrets, scrypt ones still verify', () => {
  let gw: TestGateway | undefined;
  afterEach(async () => gw?.stop());

  it('stores a new secret as SHA-256, never in the clear', async () => {
    gw = await startTestGateway();
    const dev = await gw.register({ model: 'lumina-slc300', firmware: '1.0.0' });
    const stored = hashOf(gw.dataDir, dev.id);
    expect(stored).toMatch(/^sha256\$[A-Za-z0-9_-]{43}$/);
    expect(stored).not.toContain(dev.secret);
  });

  it('lets a device whose hash is scrypt (registered before) in, and rewrites its hash as SHA-256', async () => {
    const first = await startTestGateway();
    const dev = await first.register({ id: 'legacy-1', model: 'lumina-slc300', firmware: '1.0.0' });
    const rotated = await first.register({ id: 'legacy-2', model: 'lumina-slc300', firmware: '1.0.0' });
    await first.stop({ keepData: true });
    // As a gateway of before issue 12 left them.
    const db = new Database(join(first.dataDir, 'registry.db'));
    for (const d of [dev, rotated])
      db.prepare('UPDATE devices SET secret_hash = ? WHERE id = ?').run(
        await hashSecret(d.secret, 1024),
        d.id,
      );
    db.close();
    expect(hashOf(first.dataDir, dev.id)).toMatch(/^scrypt\$1024\$/);

    gw = await startTestGateway({ dataDir: first.dataDir });
    await expect(gw.connect(dev.id, 'wrong')).rejects.toMatchObject({ code: 4 });
    const client = await gw.connect(dev.id, dev.secret);
    expect(client.connected).toBe(true);
    await client.endAsync();
    expect(hashOf(gw.dataDir, dev.id)).toMatch(/^sha256\$/);

    // A scrypt secret rotated with a grace: the old one (scrypt) still works during it.
    const res = await gw.api('POST', `/api/devices/${rotated.id}/rotate-secret`, { graceSeconds: 300 });
    expect(res.status).toBe(200);
    for (const secret of [rotated.secret, res.body.secret]) {
      const c = await gw.connect(rotated.id, secret);
      expect(c.connected).toBe(true);
      await c.endAsync();
    }
  });

  it('keeps a rotation grace across a restart', async () => {
    const first = await startTestGateway();
    const dev = await first.register({ id: 'grace-restart', model: 'lumina-slc300', firmware: '1.0.0' });
    await first.api('POST', `/api/devices/${dev.id}/rotate-secret`, { graceSeconds: 600 });
    await first.stop({ keepData: true });
    gw = await startTestGateway({ dataDir: first.dataDir });
    const c = await gw.connect(dev.id, dev.secret);
    expect(c.connected).toBe(true);
    await c.endAsync();
  });
});
