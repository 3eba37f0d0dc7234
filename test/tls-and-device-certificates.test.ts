import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mqtt, { type IClientOptions } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildGateway } from '../gateway/gateway.ts';
import { publishOfSize } from '../simulators/mqtt-bytes.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { rawConnection } from './helpers/raw-mqtt.ts';

/** Long enough for a loaded CI machine; a wait that ends early costs nothing. */
const SETTLE = { timeout: 10_000, interval: 50 };

const run = promisify(execFile);
const hasMosquitto = existsSync('/usr/bin/mosquitto_pub');

/** A CA, a server certificate for localhost / 127.0.0.1, and device certificates, made with openssl. */
function makePki(dir: string, devices: Record<string, string>) {
  // Every argument is free of spaces, so a command reads as one line.
  const openssl = (args: string) => execFileSync('openssl', args.split(' '), { cwd: dir, stdio: 'pipe' });
  const ec = '-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes';
  for (const ca of ['ca', 'rogue-ca'])
    openssl(`req -x509 ${ec} -keyout ${ca}.key -out ${ca}.crt -subj /CN=${ca} -days 2`);
  const issue = (name: string, cn: string, ca: string, ext?: string) => {
    openssl(`req ${ec} -keyout ${name}.key -out ${name}.csr -subj /CN=${cn}`);
    if (ext) writeFileSync(join(dir, `${name}.ext`), ext);
    const extArgs = ext ? ` -extfile ${name}.ext` : '';
    openssl(
      `x509 -req -in ${name}.csr -CA ${ca}.crt -CAkey ${ca}.key -CAcreateserial -out ${name}.crt -days 2${extArgs}`,
    );
  };
  issue('server', 'localhost', 'ca', 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  for (const [name, cn] of Object.entries(devices))
    issue(name, cn, name.startsWith('rogue') ? 'rogue-ca' : 'ca');
  const file = (name: string) => join(dir, name);
  const pem = (name: string) => readFileSync(file(name));
  return { file, pem };
}

describe('MQTT over TLS, HTTPS and device client certificates', () => {
  let dir: string;
  let pki: ReturnType<typeof makePki>;
  let gw: TestGateway;
  const lamp = 'aq-tls-cert';
  const other = 'aq-tls-other';
  const withSecret = { id: 'aq-tls-secret', secret: '' };

  /** The HTTP API over HTTPS, trusting only the test CA. */
  function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: gw.gateway.httpPort,
          path,
          method,
          ca: pki.pem('ca.crt'),
          servername: 'localhost',
          headers: {
            authorization: `Bearer ${gw.admin}`,
            ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          },
        },
        (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : null }));
        },
      );
      req.on('error', reject);
      req.end(body !== undefined ? JSON.stringify(body) : undefined);
    });
  }

  const register = async (id: string) => {
    const res = await api('POST', '/api/devices', {
      id,
      model: 'senvn-aqm900',
      firmware: '1.0',
      district: 'Ba Đình',
      ward: 'Điện Biên',
    });
    expect(res.status).toBe(201);
    return res.body.secret as string;
  };

  const connectTls = (clientId: string, opts: IClientOptions) =>
    mqtt.connectAsync(`mqtts://127.0.0.1:${gw.gateway.mqttsPort}`, {
      clientId,
      ca: pki.pem('ca.crt'),
      servername: 'localhost',
      reconnectPeriod: 0,
      connectTimeout: 5000,
      ...opts,
    });

  const refusal = (clientId: string, opts: IClientOptions) =>
    connectTls(clientId, opts).then(
      async (c) => {
        await c.endAsync();
        return 'connected';
      },
      (err: Error) => err.message,
    );

  const lastReading = async (id: string) => (await api('GET', `/api/devices/${id}`)).body.lastReading;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'citygate-pki-'));
    pki = makePki(dir, { lamp, other, 'rogue-lamp': lamp, 'disabled-lamp': 'aq-tls-disabled' });
    gw = await startTestGateway({
      config: {
        MQTTS_PORT: 0,
        MQTT_CONNECT_TIMEOUT_MS: 1000,
        TLS_CERT_FILE: pki.file('server.crt'),
        TLS_KEY_FILE: pki.file('server.key'),
        TLS_CA_FILE: pki.file('ca.crt'),
      },
    });
    await register(lamp);
    await register(other);
    await register('aq-tls-disabled');
    withSecret.secret = await register(withSecret.id);
    expect((await api('PATCH', '/api/devices/aq-tls-disabled', { enabled: false })).status).toBe(200);
  });
  afterAll(async () => {
    await gw?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the HTTP API over HTTPS with the configured certificate', async () => {
    const res = await api('GET', '/healthz');
    expect(res).toEqual({ status: 200, body: { ok: true } });
  });

  it('lets a device authenticate by a certificate whose CN is its id, without a secret (mqtt.js)', async () => {
    const client = await connectTls(lamp, { cert: pki.pem('lamp.crt'), key: pki.pem('lamp.key') });
    const example = gw.gateway.ctx.specs.get('senvn-aqm900')!.firmware['1.x'].example;
    await client.publishAsync(`devices/${lamp}/telemetry`, JSON.stringify(example), { qos: 1 });
    await vi.waitFor(async () => expect(await lastReading(lamp)).toHaveProperty('pm25_ugm3'), SETTLE);
    await client.endAsync();
  });

  it.skipIf(!hasMosquitto)('lets mosquitto_pub authenticate with --cafile/--cert/--key', async () => {
    const example = gw.gateway.ctx.specs.get('senvn-aqm900')!.firmware['1.x'].example;
    await run('mosquitto_pub', [
      ...['-h', '127.0.0.1', '-p', String(gw.gateway.mqttsPort), '-i', other, '-q', '1'],
      ...['--cafile', pki.file('ca.crt'), '--cert', pki.file('other.crt'), '--key', pki.file('other.key')],
      ...['-t', `devices/${other}/telemetry`, '-m', JSON.stringify(example)],
    ]);
    await vi.waitFor(async () => expect(await lastReading(other)).toHaveProperty('pm25_ugm3'), SETTLE);
  });

  it("refuses a certificate whose CN is another device's id, one from another CA, and a disabled device's", async () => {
    expect(await refusal(lamp, { cert: pki.pem('other.crt'), key: pki.pem('other.key') })).toMatch(
      /bad user ?name or password/i,
    );
    expect(await refusal(lamp, { cert: pki.pem('rogue-lamp.crt'), key: pki.pem('rogue-lamp.key') })).toMatch(
      /bad user ?name or password/i,
    );
    // The certificate stands for the id only: a different username gets no free pass.
    expect(
      await refusal(lamp, { username: other, cert: pki.pem('lamp.crt'), key: pki.pem('lamp.key') }),
    ).toMatch(/bad user ?name or password/i);
    expect(
      await refusal('aq-tls-disabled', {
        cert: pki.pem('disabled-lamp.crt'),
        key: pki.pem('disabled-lamp.key'),
      }),
    ).toMatch(/not authori[sz]ed/i);
  });

  it('still accepts a device secret over TLS, without a certificate', async () => {
    const client = await connectTls(withSecret.id, { username: withSecret.id, password: withSecret.secret });
    expect(client.connected).toBe(true);
    await client.endAsync();
    expect(await refusal(withSecret.id, { username: withSecret.id, password: 'wrong' })).toMatch(
      /bad user ?name or password/i,
    );
  });

  it('applies the packet size guard to the TLS stream', async () => {
    const client = await connectTls(lamp, { cert: pki.pem('lamp.crt'), key: pki.pem('lamp.key') });
    let closed = false;
    client.once('close', () => {
      closed = true;
    });
    // Straight onto the TLS stream, past mqtt.js: one byte over 256 KiB.
    client.stream.write(publishOfSize(`devices/${lamp}/telemetry`, 256 * 1024 + 1, 9));
    await vi.waitFor(() => expect(closed).toBe(true), SETTLE);
    client.end(true);
  });

  it('closes a connection that never completes its TLS handshake after the connect timeout', async () => {
    const conn = await rawConnection(gw.gateway.mqttsPort);
    await vi.waitFor(() => expect(conn.closed()).toBe(true), SETTLE);
  });

  it('keeps plain MQTT over TCP for the demo', async () => {
    const client = await gw.connect(withSecret.id, withSecret.secret);
    expect(client.connected).toBe(true);
    await client.endAsync();
  });

  it('names the variable of a missing or mismatched TLS file', () => {
    const build = (config: Record<string, string>) => () =>
      buildGateway({ config: { CITYGATE_DATA_DIR: dir, ...config } });
    expect(build({ TLS_CERT_FILE: join(dir, 'nope.crt'), TLS_KEY_FILE: pki.file('server.key') })).toThrow(
      /TLS_CERT_FILE: cannot read .*nope\.crt \(ENOENT\)/,
    );
    expect(build({ TLS_CERT_FILE: pki.file('server.crt'), TLS_KEY_FILE: pki.file('lamp.key') })).toThrow(
      /TLS_KEY_FILE: .* is not the key of TLS_CERT_FILE/,
    );
    expect(build({ TLS_CERT_FILE: pki.file('server.crt'), TLS_KEY_FILE: pki.file('server.crt') })).toThrow(
      /TLS_KEY_FILE: .* is not a valid PEM file/,
    );
    expect(build({ TLS_CERT_FILE: pki.file('server.crt') })).toThrow(
      /TLS_CERT_FILE is set but TLS_KEY_FILE is not/,
    );
  });
});
