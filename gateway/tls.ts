import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { createServer, type Server, TLSSocket } from 'node:tls';
import type { DeviceStore } from '../device-registry/devices.ts';
import type { Config } from './config.ts';
import { GatewayConfigError } from './errors.ts';

/** PEM material from TLS_CERT_FILE, TLS_KEY_FILE and TLS_CA_FILE, checked at start. */
export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  /** Issuer of device client certificates; without it none is asked for. */
  ca?: Buffer;
}

/** Node's default is 120 s: two minutes of an unauthenticated socket per connection attempt. */
export const HTTPS_HANDSHAKE_TIMEOUT_MS = 10_000;

type TlsVariable = 'TLS_CERT_FILE' | 'TLS_KEY_FILE' | 'TLS_CA_FILE';

function readPem(variable: TlsVariable, path: string, check: (pem: Buffer) => unknown): Buffer {
  let pem: Buffer;
  try {
    pem = readFileSync(path);
  } catch (err) {
    throw new GatewayConfigError(`${variable}: cannot read ${path} (${(err as NodeJS.ErrnoException).code})`);
  }
  try {
    check(pem);
  } catch (err) {
    throw new GatewayConfigError(`${variable}: ${path} is not a valid PEM file (${(err as Error).message})`);
  }
  return pem;
}

/** The TLS material, or undefined when TLS is off; a missing or bad file names its variable. */
export function loadTlsMaterial(config: Config): TlsMaterial | undefined {
  const { TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile, TLS_CA_FILE: caFile } = config;
  if (!certFile && !keyFile) {
    if (caFile) throw new GatewayConfigError('TLS_CA_FILE is set but TLS_CERT_FILE and TLS_KEY_FILE are not');
    return undefined;
  }
  if (!certFile) throw new GatewayConfigError('TLS_KEY_FILE is set but TLS_CERT_FILE is not');
  if (!keyFile) throw new GatewayConfigError('TLS_CERT_FILE is set but TLS_KEY_FILE is not');
  const cert = readPem('TLS_CERT_FILE', certFile, (pem) => new X509Certificate(pem));
  const key = readPem('TLS_KEY_FILE', keyFile, (pem) => createPrivateKey(pem));
  if (!new X509Certificate(cert).checkPrivateKey(createPrivateKey(key)))
    throw new GatewayConfigError(`TLS_KEY_FILE: ${keyFile} is not the key of TLS_CERT_FILE ${certFile}`);
  const ca = caFile ? readPem('TLS_CA_FILE', caFile, (pem) => new X509Certificate(pem)) : undefined;
  return { cert, key, ca };
}

/**
 * MQTT over TLS (port 8883, the IANA port for secure MQTT). With a CA, a client certificate is
 * requested but not required: devices that hold a secret connect over TLS without one, so a
 * certificate that does not verify is ignored here and grants nothing in authenticate.
 */
export function createMqttsServer(
  tls: TlsMaterial,
  handshakeTimeoutMs: number,
  handle: (conn: Socket) => void,
): Server {
  const server = createServer(
    {
      cert: tls.cert,
      key: tls.key,
      ca: tls.ca,
      requestCert: tls.ca !== undefined,
      rejectUnauthorized: false,
      handshakeTimeout: handshakeTimeoutMs,
    },
    handle,
  );
  // With no listener a socket whose handshake timed out or failed is left open: a client that
  // connects and says nothing would hold its socket (and stop() would wait for it) forever.
  server.on('tlsClientError', (_err, socket) => socket.destroy());
  return server;
}

/** The subject CN of a client certificate that verified against TLS_CA_FILE, if there is one. */
function certifiedName(conn: unknown): string | undefined {
  if (!(conn instanceof TLSSocket) || !conn.authorized) return undefined;
  const cn = conn.getPeerCertificate().subject?.CN;
  // A subject with several CNs comes back as an array: it names no one device.
  return typeof cn === 'string' ? cn : undefined;
}

/**
 * Authentication by client certificate, as AWS IoT does: a certificate issued by TLS_CA_FILE whose
 * subject CN is the client id stands for the device's secret. Undefined when the connection
 * carries no such certificate for this id; the secret is then checked as usual.
 */
export function certificateLogin(
  conn: unknown,
  clientId: string,
  username: string | undefined,
  devices: Pick<DeviceStore, 'get'>,
): 'ok' | 'unknown' | 'disabled' | undefined {
  if (username && username !== clientId) return undefined;
  if (certifiedName(conn) !== clientId) return undefined;
  const device = devices.get(clientId);
  if (!device) return 'unknown';
  return device.enabled ? 'ok' : 'disabled';
}
