import { resolve } from 'node:path';
import { z } from 'zod';
import { GatewayConfigError } from './errors.ts';

const port = z.coerce.number().int().min(0).max(65535);
const optionalUrl = z.preprocess((v) => (v === '' ? undefined : v), z.url().optional());

/** The environment contract of docs/design.md, "Configuration and ports". */
export const configSchema = z.object({
  CITYGATE_DATA_DIR: z.string().min(1).default('./data'),
  MQTT_PORT: port.default(1883),
  MQTT_HOST: z.string().default('0.0.0.0'),
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
});

export type Config = z.infer<typeof configSchema>;

export function loadConfig(env: NodeJS.ProcessEnv | Record<string, unknown> = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new GatewayConfigError(lines.join('; '));
  }
  return { ...parsed.data, CITYGATE_DATA_DIR: resolve(parsed.data.CITYGATE_DATA_DIR) };
}
