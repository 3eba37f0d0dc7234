import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';

const HEADER = 'id,model,firmware,district,ward,lat,lon,tags,modbus_host,modbus_port,modbus_unit';

/** POST /api/devices/import with the file as it is, like an installer's spreadsheet export. */
async function importFile(gw: TestGateway, body: string, type = 'text/csv', query = '') {
  const res = await fetch(`${gw.httpUrl}/api/devices/import${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${gw.admin}`, 'content-type': type },
    body,
  });
  return { status: res.status, body: await res.json() };
}

const secretsOf = (csv: string) =>
  new Map(
    csv
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(',') as [string, string]),
  );

describe('bulk provisioning: POST /api/devices/import', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway();
    await gw.register({ id: 'imp-existing', model: 'lumina-slc300', firmware: '1.0.0' });
  });
  afterAll(async () => gw?.stop());

  it('imports 10,000 devices in one request and their secrets connect over MQTT', async () => {
    const lines = [HEADER];
    for (let i = 0; i < 10_000; i++)
      lines.push(
        `imp-light-${i},lumina-slc300,1.2.0,Ba Đình,"Phúc Xá, tổ ${i % 40}",21.04${i % 10},105.84,pole;${i % 2 ? 'north' : 'south'},,,`,
      );
    const res = await importFile(gw, lines.join('\r\n'));
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ imported: 10_000, rejected: 0, errors: [] });
    const secrets = secretsOf(res.body.secretsCsv);
    expect(secrets.size).toBe(10_000);

    const one = await gw.api('GET', '/api/devices/imp-light-4321');
    expect(one.body).toMatchObject({ ward: 'Phúc Xá, tổ 1', tags: ['pole', 'north'], lat: 21.041 });
    for (const id of ['imp-light-0', 'imp-light-9999']) {
      const client = await gw.connect(id, secrets.get(id)!);
      expect(client.connected).toBe(true);
      await client.endAsync();
    }
    const listed = await gw.api('GET', '/api/devices?tag=north&limit=1');
    expect(listed.body.total).toBe(5000);
  }, 60_000);

  it('refuses a file with bad rows whole, naming each line and field', async () => {
    const file = [
      HEADER,
      'imp-a1,lumina-slc300,1.0.0,Tây Hồ,Quảng An,21.06,105.82,,,,',
      'imp-a2,lumina-slc300,1.0.0,Tây Hồ,Quảng An,95,105.82,,,,',
      'imp-a3,no-such-model,1.0.0,Tây Hồ,Quảng An,,,,,,',
      'imp-a1,lumina-slc300,1.0.0,Tây Hồ,Quảng An,,,,,,',
      'imp-existing,lumina-slc300,1.0.0,Tây Hồ,Quảng An,,,,,,',
      'imp-a6,sonmetrix-smx630,1.0.0,Tây Hồ,Nhật Tân,,,,10.0.0.5,99999,3',
      'imp a7,lumina-slc300,9.0.0,,Quảng An,,,,,,',
    ].join('\n');
    const res = await importFile(gw, file);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('REG_ERR_IMPORT_INVALID');
    const where = res.body.errors.map((e: { line: number; field: string }) => `${e.line}:${e.field}`);
    expect(where).toEqual(
      expect.arrayContaining(['3:lat', '4:model', '5:id', '6:id', '7:modbus_port', '8:id', '8:district']),
    );
    expect(res.body.errors.find((e: { line: number }) => e.line === 5).message).toMatch(/line 2/);
    expect(res.body.errors.find((e: { line: number }) => e.line === 6).message).toMatch(/already exists/);
    // All or nothing: the good row on line 2 is not there either.
    expect((await gw.api('GET', '/api/devices/imp-a1')).status).toBe(404);
  });

  it('with partial=true imports the valid rows and reports the others', async () => {
    const file = [
      HEADER,
      'imp-p1,lumina-slc300,1.0.0,Tây Hồ,Quảng An,,,,,,',
      'imp-p2,lumina-slc300,1.0.0,Tây Hồ,Quảng An,,,,,,',
      'imp-p3,lumina-slc300,7.0.0,Tây Hồ,Quảng An,,,,,,',
      'imp-p4,sonmetrix-smx630,1.0.0,Tây Hồ,Nhật Tân,,,,10.0.0.5,502,3',
    ].join('\n');
    const res = await importFile(gw, file, 'text/csv', '?partial=true');
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ imported: 3, rejected: 1 });
    expect(res.body.errors).toEqual([
      { line: 4, field: 'firmware', message: expect.stringMatching(/7\.0\.0/) },
    ]);
    // The Modbus meter has no MQTT secret: the installers' file lists only the MQTT devices.
    expect([...secretsOf(res.body.secretsCsv).keys()]).toEqual(['imp-p1', 'imp-p2']);
    const meter = await gw.api('GET', '/api/devices/imp-p4');
    expect(meter.body.modbus).toEqual({ host: '10.0.0.5', port: 502, unitId: 3 });
  });

  it('reads quoted CSV cells (commas, quotes, newlines) and names the line of a broken quote', async () => {
    const file = [
      HEADER,
      'imp-q1,lumina-slc300,1.0.0,"Hoàn Kiếm","Hàng Bạc, phố cổ",,,"a;""b""",,,',
      'imp-q2,lumina-slc300,1.0.0,Hoàn Kiếm,"Hàng\nĐào",,,,,,',
      'imp-q3,lumina-slc300,1.0.0,Hoàn Kiếm,Hàng "Bồ",,,,,,',
      'imp-q4,lumina-slc300,1.0.0,Hoàn Kiếm,Hàng Bồ,,,,,,',
    ].join('\n');
    const res = await importFile(gw, file, 'text/csv', '?partial=true');
    expect(res.status).toBe(201);
    // The second row spans lines 3 and 4, so the stray quote is on line 5.
    expect(res.body.errors.map((e: { line: number; field: string }) => `${e.line}:${e.field}`)).toEqual([
      '5:row',
    ]);
    expect(res.body).toMatchObject({ imported: 3, rejected: 1 });
    const q1 = await gw.api('GET', '/api/devices/imp-q1');
    expect(q1.body).toMatchObject({ ward: 'Hàng Bạc, phố cổ', tags: ['a', '"b"'] });
  });

  it('takes NDJSON with the same rules, errors by line', async () => {
    const file = [
      JSON.stringify({
        id: 'imp-n1',
        model: 'lumina-slc300',
        firmware: '2.0.0',
        district: 'Cầu Giấy',
        ward: 'Dịch Vọng',
      }),
      '',
      '{"id": "imp-n2", "model": "lumina-slc300"',
      JSON.stringify({
        id: 'imp-n3',
        model: 'lumina-slc300',
        firmware: '2.0.0',
        district: 'Cầu Giấy',
        ward: 'x',
        tags: ['a'.repeat(65)],
      }),
    ].join('\n');
    const refused = await importFile(gw, file, 'application/x-ndjson');
    expect(refused.status).toBe(400);
    expect(refused.body.errors.map((e: { line: number; field: string }) => `${e.line}:${e.field}`)).toEqual([
      '3:row',
      '4:tags',
    ]);
    const ok = await importFile(gw, `${file.split('\n')[0]}\n`, 'application/x-ndjson');
    expect(ok.status).toBe(201);
    expect(ok.body.imported).toBe(1);
  });

  it('is bounded: rows, content type, role', async () => {
    const many = [HEADER, ...Array.from({ length: 100_001 }, (_, i) => `x${i}`)].join('\n');
    const tooMany = await importFile(gw, many);
    expect(tooMany.status).toBe(413);
    expect(tooMany.body.message).toMatch(/100000 rows/);
    const json = await gw.api('POST', '/api/devices/import', { rows: [] });
    expect(json.status).toBe(415);
    const header = await importFile(gw, 'id,model,colour\nx,y,z\n');
    expect(header.status).toBe(400);
    expect(header.body.errors[0]).toMatchObject({
      line: 1,
      field: 'header',
      message: expect.stringMatching(/colour/),
    });
    const operator = (await gw.api('POST', '/api/tokens', { name: 'imp-op', role: 'operator' })).body.token;
    const res = await fetch(`${gw.httpUrl}/api/devices/import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${operator}`, 'content-type': 'text/csv' },
      body: `${HEADER}\n`,
    });
    expect(res.status).toBe(403);
  });

  it('audits each imported device under the importer', async () => {
    const audit = await gw.api('GET', '/api/audit?device=imp-p1');
    expect(audit.body.entries).toEqual([
      expect.objectContaining({
        action: 'device.register',
        subject: 'imp-p1',
        detail: { model: 'lumina-slc300', via: 'import' },
      }),
    ]);
  });
});
