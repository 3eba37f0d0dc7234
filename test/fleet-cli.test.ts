import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';

describe('fleet commands of the engineer CLI against a real gateway', () => {
  let gw: TestGateway;
  let dir: string;
  const cli = (args: string[]) => runCli(gw, args);

  beforeAll(async () => {
    gw = await startTestGateway();
    dir = mkdtempSync(join(tmpdir(), 'citygate-fleet-cli-'));
  });
  afterAll(async () => {
    await gw?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('imports a CSV, writes the secrets 0600, and a secret from it connects', async () => {
    const file = join(dir, 'batch.csv');
    writeFileSync(
      file,
      'id,model,firmware,district,ward,lat,lon,tags\n' +
        'cli-l1,lumina-slc300,1.0.0,Long Biên,Bồ Đề,21.04,105.87,pole\n' +
        'cli-l2,lumina-slc300,1.0.0,Long Biên,Bồ Đề,,,\n',
    );
    const secretsFile = join(dir, 'batch.secrets.csv');
    const res = await cli(['import', file, '--secrets-out', secretsFile]);
    expect(res.err).toBe('');
    expect(res.code).toBe(0);
    expect(res.out).toContain('imported 2 devices, rejected 0');
    expect(res.out).toContain(secretsFile);
    expect(statSync(secretsFile).mode & 0o777).toBe(0o600);
    const lines = readFileSync(secretsFile, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('id,secret');
    const [id, secret] = lines[1].split(',');
    expect(id).toBe('cli-l1');
    const client = await gw.connect(id, secret);
    expect(client.connected).toBe(true);
    await client.endAsync();
    // The secrets never reach the terminal.
    expect(res.out).not.toContain(secret);

    // The same file again: refused whole, by line, and the secrets file is not written over.
    const again = await cli(['import', file, '--secrets-out', secretsFile]);
    expect(again.code).toBe(1);
    expect(again.out).toMatch(/2\s+id\s+device cli-l1 already exists/);
    expect(again.out).toMatch(/3\s+id\s+device cli-l2 already exists/);
  }, 60_000);

  it('imports NDJSON with --partial and reports the rejected rows in JSON', async () => {
    const file = join(dir, 'batch.ndjson');
    writeFileSync(
      file,
      [
        { id: 'cli-n1', model: 'lumina-slc300', firmware: '2.0.0', district: 'Đống Đa', ward: 'Láng Hạ' },
        {
          id: 'cli-n2',
          model: 'lumina-slc300',
          firmware: '2.0.0',
          district: 'Đống Đa',
          ward: 'Láng Hạ',
          lat: 200,
        },
      ]
        .map((r) => JSON.stringify(r))
        .join('\n'),
    );
    const res = await cli(['import', file, '--partial', '--json', '--secrets-out', join(dir, 'n.csv')]);
    expect(res.code).toBe(2);
    const body = JSON.parse(res.out);
    expect(body).toMatchObject({ imported: 1, rejected: 1, secretsFile: join(dir, 'n.csv') });
    expect(body.errors).toEqual([{ line: 2, field: 'lat', message: expect.any(String) }]);
    expect(body.secretsCsv).toBeUndefined();
  });

  it('registers, updates, rotates and decommissions a device, and shows the audit', async () => {
    const reg = await cli([
      'register',
      'cli-r1',
      '--model',
      'lumina-slc300',
      '--firmware',
      '1.0.0',
      '--district',
      'Hoàn Kiếm',
      '--ward',
      'Hàng Trống',
      '--tags',
      'pole,old-town',
    ]);
    expect(reg.code).toBe(0);
    expect(reg.out).toContain('cli-r1  lumina-slc300 (streetlight) firmware 1.0.0, offline');
    expect(reg.out).toContain('tags pole, old-town');
    const secret = /secret: (\S+)/.exec(reg.out)![1];

    const upd = await cli(['update', 'cli-r1', '--firmware', '2.0.0', '--lat', '21.028', '--lon', '105.852']);
    expect(upd.out).toContain('firmware 2.0.0');
    expect(upd.out).toContain('(21.028, 105.852)');
    const bad = await cli(['update', 'cli-r1', '--firmware', '8.0.0']);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/400 model lumina-slc300 supports no firmware 8\.0\.0/);

    const rot = await cli(['rotate', 'cli-r1', '--grace', '3600', '--json']);
    const rotated = JSON.parse(rot.out);
    expect(rotated.previousValidUntil).not.toBeNull();
    expect((await gw.connect('cli-r1', secret)).connected).toBe(true);
    expect((await gw.connect('cli-r1', rotated.secret)).connected).toBe(true);

    const gone = await cli(['decommission', 'cli-r1', '--reason', 'replaced by cli-r2']);
    expect(gone.out).toMatch(/cli-r1 .* decommissioned \d{4}-/);
    const reuse = await cli([
      'register',
      'cli-r1',
      '--model',
      'lumina-slc300',
      '--firmware',
      '1.0.0',
      '--district',
      'x',
      '--ward',
      'y',
    ]);
    expect(reuse.code).toBe(1);
    expect(reuse.err).toMatch(/409 device cli-r1 was decommissioned at .*not reused/);

    const audit = await cli(['audit', '--device', 'cli-r1']);
    expect(audit.code).toBe(0);
    for (const action of [
      'device.decommission',
      'device.rotate_secret',
      'device.firmware',
      'device.update',
      'device.register',
    ])
      expect(audit.out).toContain(action);
    expect(audit.out).toContain('"from":"1.0.0","to":"2.0.0"');
    expect(audit.out).toContain('replaced by cli-r2');
    const json = JSON.parse((await cli(['audit', '--action', 'device.firmware', '--json'])).out);
    expect(json.entries.map((e: { subject: string }) => e.subject)).toEqual(['cli-r1']);
    // Each command is a process of its own (node + tsx): about 2 s each on a busy machine.
  }, 120_000);
});
