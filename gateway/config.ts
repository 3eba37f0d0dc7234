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
  /** Events kept for GET /api/events resume with Last-Event-ID; older ids get a reset. */
  EVENTS_BUFFER: z.coerce.number().int().min(10).max(1_000_000).default(10_000),
  /** Concurrent GET /api/events streams; more get 503. */
  EVENTS_MAX_CLIENTS: z.coerce.number().int().min(1).max(10_000).default(100),
  /** Attempts per webhook delivery (back-off 1 s, 2 s, 4 s … capped at an hour) before it fails. */
  WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(15),
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
