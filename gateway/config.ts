import { resolve } from 'node:path';
import { z } from 'zod';
import { GatewayConfigError } from './errors.ts';

const port = z.coerce.number().int().min(0).max(65535);
const optionalUrl = z.preprocess((v) => (v === '' ? undefined : v), z.url().optional());
const optionalString = z.preprocess((v) => (v === '' ? undefined : v), z.string().optional());
const bytes = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** The environment contract of docs/design.md, "Configuration and ports". */
export const configSchema = z
  .object({
    CITYGATE_DATA_DIR: z.string().min(1).default('./data'),
    MQTT_PORT: port.default(1883),
    MQTT_HOST: z.string().default('0.0.0.0'),
    /**
     * Connections the kernel holds for the broker before it accepts them (listen backlog; Linux
     * caps it at net.core.somaxconn). Node's 511 overflowed in a 1,000 connects/s reconnect
     * storm on a cluster node, and Linux reset the stalled handshakes.
     */
    MQTT_LISTEN_BACKLOG: z.coerce.number().int().min(1).max(65_535).default(4096),
    HTTP_PORT: port.default(8080),
    HTTP_HOST: z.string().default('0.0.0.0'),
    INFLUX_URL: optionalUrl,
    INFLUX_TOKEN: z.string().optional(),
    INFLUX_ORG: z.string().default('citygate'),
    INFLUX_BUCKET: z.string().default('citygate'),
    /** v2: the v2 write API (InfluxDB 1.8+, 2.x, 3.x); v1: `/write` of InfluxDB 1.x (issue 9). */
    INFLUX_API: z.enum(['v1', 'v2']).default('v2'),
    /** InfluxDB 1.x database (v1 writes, InfluxQL history); default INFLUX_BUCKET. */
    INFLUX_DB: z.string().min(1).optional(),
    INFLUX_RP: z.string().min(1).optional(),
    INFLUX_USERNAME: z.string().min(1).optional(),
    INFLUX_PASSWORD: z.string().optional(),
    /** How long the embedded rollup store keeps 1-minute buckets. */
    HISTORY_RETENTION_HOURS: z.coerce
      .number()
      .positive()
      .max(24 * 31)
      .default(48),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    CITYGATE_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
    /** Disk bound of the outbox; past it QoS 1 readings get no PUBACK. */
    OUTBOX_MAX_BYTES: z.coerce
      .number()
      .int()
      .positive()
      .default(1024 ** 3),
    /** Readings older than this are stamped with the receive time instead. */
    MAX_READING_AGE_HOURS: z.coerce
      .number()
      .positive()
      .default(24 * 7),
    /** Group commit window: readings arriving within it share one transaction and one disk sync. */
    GROUP_COMMIT_MS: z.coerce.number().min(0).max(100).default(2),
    SINK_BATCH_LINES: z.coerce.number().int().min(1).max(50_000).default(5000),
    /** A command reply longer than this is kept as malformed (its first 500 characters), not parsed. */
    COMMAND_REPLY_MAX_BYTES: z.coerce
      .number()
      .int()
      .min(256)
      .max(1024 ** 2)
      .default(16 * 1024),
    /** JSON nesting a payload may have; deeper ones are quarantined unparsed. */
    PAYLOAD_MAX_DEPTH: z.coerce.number().int().min(2).max(1000).default(32),
    /** Readings one payload may carry; past it the payload is quarantined whole, unparsed. */
    MAX_READINGS_PER_PAYLOAD: z.coerce.number().int().min(1).max(100_000).default(2000),
    /** Bytes of a refused payload kept in the quarantine (plus its size and sha256). */
    QUARANTINE_MAX_RAW_BYTES: z.coerce.number().int().min(64).default(4096),
    /** Quarantine entries per device; past it the device's oldest go. */
    QUARANTINE_MAX_PER_DEVICE: z.coerce.number().int().min(1).default(1000),
    /** Bytes of the whole quarantine (and, apart, of the dead letters); past it the oldest go. */
    QUARANTINE_MAX_BYTES: z.coerce
      .number()
      .int()
      .positive()
      .default(256 * 1024 ** 2),
    /** Bytes a connection may send before its CONNACK (the CONNECT and anything pipelined after it). */
    MQTT_MAX_CONNECT_BYTES: bytes(64, 1024 ** 2).default(8192),
    /** Largest MQTT packet after CONNACK, fixed header included (Mosquitto's max_packet_size). */
    MQTT_MAX_PACKET_BYTES: bytes(1024, 256 * 1024 ** 2).default(256 * 1024),
    /** A connection whose CONNECT has not fully arrived by then is closed. */
    MQTT_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
    MQTT_MAX_SUBSCRIPTIONS: z.coerce.number().int().min(1).max(10_000).default(16),
    /** UTF-8 bytes of a PUBLISH topic or a SUBSCRIBE filter. */
    MQTT_MAX_TOPIC_LENGTH: bytes(32, 65_535).default(256),
    MQTTS_PORT: port.default(8883),
    /** Defaults to MQTT_HOST. */
    MQTTS_HOST: optionalString,
    /** PEM files; with both set, MQTT over TLS listens on MQTTS_PORT and the API speaks HTTPS. */
    TLS_CERT_FILE: optionalString,
    TLS_KEY_FILE: optionalString,
    /** PEM CA bundle; when set, devices may present a client certificate whose CN is their id. */
    TLS_CA_FILE: optionalString,
    /** Failed CONNECTs of one source address (or one device id) are counted over this window. */
    AUTH_FAILURE_WINDOW_SECONDS: z.coerce.number().positive().default(60),
    /** Past this many failures in the window an address backs off: refused without scrypt. */
    AUTH_FAILURES_BEFORE_BACKOFF: z.coerce.number().int().min(1).default(10),
    /** Past this many failures (refusals in back-off included) the address is banned. */
    AUTH_FAILURES_BEFORE_BAN: z.coerce.number().int().min(1).default(30),
    AUTH_BAN_SECONDS: z.coerce.number().positive().default(300),
    /** Credential checks of an address that failed, waiting or running at once; more get CONNACK 3. */
    AUTH_PENDING_PER_ADDRESS: z.coerce.number().int().min(1).default(16),
    /** scrypt checks waiting for the 4 running ones; past it CONNACK 3 "server unavailable". */
    AUTH_SCRYPT_QUEUE: z.coerce.number().int().min(0).default(512),
    /** Per-device publish token bucket: sustained rate (0: unlimited) and burst. */
    DEVICE_RATE_PER_SEC: z.coerce.number().min(0).default(50),
    DEVICE_RATE_BURST: z.coerce.number().int().min(1).default(200),
    /** Events kept for GET /api/events resume with Last-Event-ID; older ids get a reset. */
    EVENTS_BUFFER: z.coerce.number().int().min(10).max(1_000_000).default(10_000),
    /** Concurrent GET /api/events streams; more get 503. */
    EVENTS_MAX_CLIENTS: z.coerce.number().int().min(1).max(10_000).default(100),
    /** Map tiles for the dashboard, e.g. `https://tiles.example/{z}/{x}/{y}.png`; unset: the map draws without. */
    MAP_TILE_URL: optionalUrl,
    /** Attempts per webhook delivery (back-off 1 s, 2 s, 4 s … capped at an hour) before it fails. */
    WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(15),
    /** on: the lighting calendar drives the streetlights (issue 13); off: programs are only shown. */
    LIGHTING_SCHEDULER: z.enum(['on', 'off']).default('off'),
    /** Bound on the setDimming commands the lighting programs send, spread over the seconds it takes. */
    LIGHTING_COMMANDS_PER_SECOND: z.coerce.number().int().min(1).max(100_000).default(1000),
    /** Largest firmware image an admin may upload (issue 12). */
    FIRMWARE_MAX_BYTES: bytes(1024, 1024 ** 3).default(64 * 1024 ** 2),
    /** The gateway's HTTP address as devices reach it, for firmware download URLs; default http://<HTTP_HOST>:<port>. */
    FIRMWARE_BASE_URL: optionalUrl,
    /** PostgreSQL registry (issue 11); with REDIS_URL it makes this process a node of a cluster. */
    DATABASE_URL: z.preprocess(
      (v) => (v === '' ? undefined : v),
      z
        .string()
        .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
        .optional(),
    ),
    /** Redis for the broker's cross-node routing and sessions, and the cluster's messages (issue 11). */
    REDIS_URL: z.preprocess(
      (v) => (v === '' ? undefined : v),
      z
        .string()
        .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
        .optional(),
    ),
    /** Prefix of this cluster's Redis keys and channels (several clusters may share a Redis). */
    REDIS_PREFIX: z.string().min(1).max(64).default('citygate:'),
    /** This node's name in the cluster; default `<hostname>:<HTTP port>`. */
    NODE_ID: z
      .string()
      .regex(/^[\w.:-]{1,64}$/, 'letters, digits and . _ : - only, at most 64')
      .optional(),
  })
  .superRefine((c, ctx) => {
    if (Boolean(c.DATABASE_URL) !== Boolean(c.REDIS_URL))
      ctx.addIssue({
        code: 'custom',
        path: [c.DATABASE_URL ? 'REDIS_URL' : 'DATABASE_URL'],
        message: 'cluster mode needs both DATABASE_URL and REDIS_URL; set both or neither',
      });
  });

export type Config = z.infer<typeof configSchema>;

/** Cluster mode (issue 11): the registry on PostgreSQL, the broker on Redis. */
export const isClusterMode = (c: Config): boolean => Boolean(c.DATABASE_URL && c.REDIS_URL);

export function loadConfig(env: NodeJS.ProcessEnv | Record<string, unknown> = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new GatewayConfigError(lines.join('; '));
  }
  return { ...parsed.data, CITYGATE_DATA_DIR: resolve(parsed.data.CITYGATE_DATA_DIR) };
}
