import { existsSync, readdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomImage, sha256, uploadFirmware } from './helpers/firmware.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';

const MAX = 64 * 1024;
let gw: TestGateway;
let viewer: string;
const image = randomImage(20_000);
let id: string;

const download = (path: string, headers: Record<string, string> = {}, token = gw.admin) =>
  fetch(`${gw.httpUrl}${path}`, {
    headers: { ...(token && { authorization: `Bearer ${token}` }), ...headers },
  });

beforeAll(async () => {
  gw = await startTestGateway({ config: { FIRMWARE_MAX_BYTES: MAX } });
  viewer = (await gw.api('POST', '/api/tokens', { name: 'v', role: 'viewer' })).body.token;
  const res = await uploadFirmware(gw, image, {
    model: 'lumina-slc300',
    version: '3.0.0',
    from: '2.x, 1.x',
    name: '../../etc/passwd',
  });
  expect(res.status).toBe(201);
  id = res.body.id;
});

afterAll(async () => {
  await gw?.stop();
});

describe('firmware artifacts', () => {
  it('keeps the image under its own id, with the sha256 the gateway computed', async () => {
    const res = await gw.api('GET', `/api/firmware/${id}`, undefined, viewer);
    expect(res.body).toMatchObject({
      model: 'lumina-slc300',
      version: '3.0.0',
      fromVersions: ['2.x', '1.x'],
      sha256: sha256(image),
      size: image.length,
      name: '../../etc/passwd',
    });
    // The name a client sent is never a path: the only file is the one named by the id.
    expect(readdirSync(join(gw.dataDir, 'firmware'))).toEqual([`${id}.bin`]);
    expect(
      (await gw.api('GET', '/api/firmware?model=lumina-slc300')).body.artifacts.map((a: any) => a.id),
    ).toEqual([id]);
  });

  it('serves the whole image with Accept-Ranges and the sha256 as ETag', async () => {
    const res = await download(`/api/firmware/${id}/download`, {}, viewer);
    expect(res.status).toBe(200);
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    expect(res.headers.get('etag')).toBe(`"${sha256(image)}"`);
    expect(Buffer.from(await res.arrayBuffer()).equals(image)).toBe(true);
  });

  it('answers ranges with 206 and exactly the bytes asked for', async () => {
    const cases: Array<[string, number, number]> = [
      ['bytes=0-99', 0, 99],
      ['bytes=1000-', 1000, image.length - 1],
      ['bytes=-500', image.length - 500, image.length - 1],
      ['bytes=19990-30000', 19990, image.length - 1],
    ];
    for (const [range, start, end] of cases) {
      const res = await download(`/api/firmware/${id}/download`, { range });
      expect(res.status, range).toBe(206);
      expect(res.headers.get('content-range'), range).toBe(`bytes ${start}-${end}/${image.length}`);
      expect(Number(res.headers.get('content-length')), range).toBe(end - start + 1);
      expect(Buffer.from(await res.arrayBuffer()).equals(image.subarray(start, end + 1)), range).toBe(true);
    }
  });

  it('answers 416 with the size for ranges that are invalid or outside the image', async () => {
    for (const range of ['bytes=20000-', 'bytes=500-100', 'bytes=abc', 'bytes=-0', 'bytes=-']) {
      const res = await download(`/api/firmware/${id}/download`, { range });
      expect(res.status, range).toBe(416);
      expect(res.headers.get('content-range'), range).toBe(`bytes */${image.length}`);
    }
  });

  it('sends the whole image when If-Range names another version', async () => {
    const res = await download(`/api/firmware/${id}/download`, { range: 'bytes=0-9', 'if-range': '"other"' });
    expect(res.status).toBe(200);
    expect((await res.arrayBuffer()).byteLength).toBe(image.length);
    const same = await download(`/api/firmware/${id}/download`, {
      range: 'bytes=0-9',
      'if-range': `"${sha256(image)}"`,
    });
    expect(same.status).toBe(206);
  });

  it('refuses downloads without a bearer token or a valid download token', async () => {
    expect((await download(`/api/firmware/${id}/download`, {}, '')).status).toBe(401);
    expect((await download(`/api/firmware/${id}/download?token=made-up`, {}, '')).status).toBe(401);
  });
});

describe('hostile uploads', () => {
  it('refuses an image larger than FIRMWARE_MAX_BYTES, announced or streamed, and keeps nothing', async () => {
    const big = randomImage(MAX + 1);
    const announced = await uploadFirmware(gw, big, {
      model: 'lumina-slc300',
      version: '3.0.1',
      from: '2.x',
    });
    expect(announced.status).toBe(413);
    expect(announced.body.code).toBe('FW_ERR_TOO_LARGE');
    // Chunked, without a Content-Length: counted while it streams.
    const streamed = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const q = new URLSearchParams({
        model: 'lumina-slc300',
        version: '3.0.2',
        from: '2.x',
        sha256: sha256(big),
      });
      const req = request(
        `${gw.httpUrl}/api/firmware?${q}`,
        {
          method: 'POST',
          headers: { authorization: `Bearer ${gw.admin}`, 'content-type': 'application/octet-stream' },
        },
        (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode!, body }));
        },
      );
      req.on('error', reject);
      for (let i = 0; i < big.length; i += 8192) req.write(big.subarray(i, i + 8192));
      req.end();
    });
    expect(streamed.status).toBe(413);
    expect(JSON.parse(streamed.body).code).toBe('FW_ERR_TOO_LARGE');
    expect(readdirSync(join(gw.dataDir, 'firmware'))).toEqual([`${id}.bin`]);
  });

  it('refuses an image whose sha256 is not the one given, and keeps nothing', async () => {
    const res = await uploadFirmware(gw, randomImage(100), {
      model: 'lumina-slc300',
      version: '3.0.3',
      from: '2.x',
      sha256: sha256(Buffer.from('something else')),
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('FW_ERR_CHECKSUM');
    expect(readdirSync(join(gw.dataDir, 'firmware'))).toEqual([`${id}.bin`]);
    expect((await gw.api('GET', '/api/firmware')).body.artifacts).toHaveLength(1);
  });

  it('names the field of bad metadata', async () => {
    const img = randomImage(10);
    const bad: Array<[Record<string, string>, RegExp]> = [
      [{ version: '../../x' }, /querystring\.version/],
      [{ sha256: 'zz' }, /querystring\.sha256/],
      [{ from: '1.x,../2' }, /querystring\.from/],
      [{ model: 'no-such-model' }, /querystring\.model: model no-such-model is not loaded/],
      [{ model: 'airviet-aq5' }, /querystring\.model: model airviet-aq5 has no otaUpdate/],
      [{ version: '9.0.0' }, /querystring\.version: model lumina-slc300 has no firmware spec for 9\.0\.0/],
      [{ name: 'a\u0000b' }, /querystring\.name/],
    ];
    for (const [over, message] of bad) {
      const res = await uploadFirmware(gw, img, {
        model: 'lumina-slc300',
        version: '3.0.4',
        from: '2.x',
        ...over,
      });
      expect(res.status, JSON.stringify(over)).toBe(400);
      expect(res.body.message, JSON.stringify(over)).toMatch(message);
    }
    const dup = await uploadFirmware(gw, img, { model: 'lumina-slc300', version: '3.0.0', from: '2.x' });
    expect(dup.status).toBe(409);
  });

  it('does not let a path in the id reach a file', async () => {
    for (const path of ['..%2F..%2Fregistry.db', '..%2Fregistry.db', `${id}.bin`, 'fw_..%2F..%2Fx']) {
      const res = await download(`/api/firmware/${path}/download`);
      expect(res.status, path).toBe(400);
      expect((await res.json()).message).toMatch(/params\.id/);
    }
  });

  it('lets only admins add or delete, and deletes the file with the record', async () => {
    expect(
      (
        await uploadFirmware(
          gw,
          randomImage(10),
          { model: 'lumina-slc300', version: '3.0.5', from: '2.x' },
          viewer,
        )
      ).status,
    ).toBe(403);
    const extra = await uploadFirmware(gw, randomImage(10), {
      model: 'lumina-slc300',
      version: '3.0.5',
      from: '2.x',
    });
    expect(extra.status).toBe(201);
    expect((await gw.api('DELETE', `/api/firmware/${extra.body.id}`, undefined, viewer)).status).toBe(403);
    expect((await gw.api('DELETE', `/api/firmware/${extra.body.id}`)).status).toBe(204);
    expect(existsSync(join(gw.dataDir, 'firmware', `${extra.body.id}.bin`))).toBe(false);
    expect((await gw.api('GET', `/api/firmware/${extra.body.id}`)).status).toBe(404);
  });
});

describe('hostile campaign requests', () => {
  it('names the field of a bad campaign and refuses what cannot run', async () => {
    const post = (body: unknown, token?: string) => gw.api('POST', '/api/campaigns', body, token);
    const base = { name: 'c', artifactId: id, groups: { sizes: [1] } };
    const cases: Array<[unknown, number, RegExp]> = [
      [{ ...base, groups: { percentages: [50, 40] } }, 400, /body\.groups.*must add up to 100/],
      [{ ...base, groups: { sizes: [0] } }, 400, /body\.groups/],
      [{ ...base, errorThreshold: 101 }, 400, /body\.errorThreshold/],
      [{ ...base, artifactId: '../../registry.db' }, 400, /body\.artifactId/],
      [{ ...base, artifactId: 'fw_000000000000000000' }, 404, /firmware artifact fw_0+ not found/],
      [
        { ...base, selector: { model: 'dragonlight-nc20' } },
        400,
        /body\.selector: model dragonlight-nc20 is not the artifact's model/,
      ],
      [{ ...base, selector: { sql: '1=1' } }, 400, /body\.selector/],
      [base, 400, /matches no device that can take this firmware/],
    ];
    for (const [body, status, message] of cases) {
      const res = await post(body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(res.body.message, JSON.stringify(body)).toMatch(message);
    }
    expect((await post(base, viewer)).status).toBe(403);
    expect((await gw.api('GET', '/api/campaigns/camp_000000000000')).status).toBe(404);
    expect((await gw.api('POST', '/api/campaigns/../x/abort', {})).status).toBe(404);
  });
});
