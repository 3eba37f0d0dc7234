import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ImportInvalidError } from '../../../device-registry/errors.ts';
import type { GatewayContext } from '../../context.ts';
import {
  IMPORT_MAX_BYTES,
  IMPORT_MAX_ERRORS,
  IMPORT_MAX_ROWS,
  ImportTooLargeError,
  importFormat,
  parseImport,
  type RowError,
  secretsCsv,
} from '../device-import.ts';
import { nextPage, pageLimit } from '../pagination.ts';
import { deviceView, errorResponse, idParam } from '../schemas.ts';
import { deviceToView } from './devices.ts';

const importQuery = z.object({
  partial: z
    .enum(['true', 'false'])
    .default('false')
    .describe('import the valid rows and report the others (default: all or nothing)'),
});

const rowError = z.object({ line: z.number(), field: z.string(), message: z.string() });

const importResult = z.object({
  imported: z.number(),
  rejected: z.number(),
  errors: z.array(rowError),
  /** More problems than listed (at most IMPORT_MAX_ERRORS are). */
  errorsTruncated: z.boolean(),
  /** `id,secret` lines for the installers: shown this once, only hashes are kept. */
  secretsCsv: z.string(),
});

const importRefusal = errorResponse.extend({
  errors: z.array(rowError).optional(),
  errorsTruncated: z.boolean().optional(),
});

const rotateBody = z.object({
  graceSeconds: z
    .number()
    .int()
    .min(0)
    .max(30 * 86_400)
    .default(0)
    .describe('how long the previous secret still works (at most 30 days; 0: not at all)'),
});

const decommissionBody = z
  .object({ reason: z.string().min(1).max(500).optional() })
  .optional()
  .describe('why, for the audit');

const isoInstant = z.iso.datetime({ offset: true });

const auditQuery = z.object({
  device: z.string().max(128).optional(),
  actor: z.string().max(100).optional(),
  action: z.string().max(64).optional(),
  since: isoInstant.optional().describe('ISO 8601 with a zone; inclusive'),
  until: isoInstant.optional().describe('ISO 8601 with a zone; inclusive'),
  limit: pageLimit,
  beforeId: z.coerce.number().int().positive().optional(),
});

const auditView = z.object({
  id: z.number(),
  at: z.string(),
  actor: z.string(),
  action: z.string(),
  subject: z.string(),
  detail: z.unknown(),
});

/** Bulk provisioning, secret rotation, decommissioning and the audit trail (issue 12). */
export function fleetRoutes(app: FastifyInstance, ctx: GatewayContext): void {
  // Import files arrive as text; JSON stays with fastify's own parser.
  for (const type of ['text/csv', 'application/x-ndjson', 'application/jsonl', 'application/ndjson'])
    if (!app.hasContentTypeParser(type))
      app.addContentTypeParser(type, { parseAs: 'string', bodyLimit: IMPORT_MAX_BYTES }, (_req, body, done) =>
        done(null, body),
      );
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(
    '/api/devices/import',
    {
      preHandler: ctx.requireRole('admin', 'import devices'),
      bodyLimit: IMPORT_MAX_BYTES,
      schema: {
        tags: ['devices'],
        description: `CSV (text/csv, header line) or NDJSON (application/x-ndjson); at most ${IMPORT_MAX_ROWS} rows and ${IMPORT_MAX_BYTES / 1024 ** 2} MiB`,
        querystring: importQuery,
        response: {
          201: importResult,
          200: importResult,
          400: importRefusal,
          413: errorResponse,
          415: errorResponse,
        },
      },
    },
    async (req, reply) => {
      const format = importFormat(req.headers['content-type']);
      if (!format || typeof req.body !== 'string')
        return reply.code(415).send({
          statusCode: 415,
          code: 'GW_ERR_IMPORT_FORMAT',
          error: 'Unsupported Media Type',
          message: 'send the file as text/csv or application/x-ndjson',
        });
      let parsed: Awaited<ReturnType<typeof parseImport>>;
      try {
        parsed = await parseImport(req.body, format);
      } catch (err) {
        if (!(err instanceof ImportTooLargeError)) throw err;
        return reply.code(413).send({
          statusCode: 413,
          code: 'GW_ERR_IMPORT_TOO_LARGE',
          error: 'Payload Too Large',
          message: err.message,
        });
      }
      const partial = req.query.partial === 'true';
      const actor = req.principal!.name;
      const refuse = (errors: RowError[]) => {
        const e = new ImportInvalidError(new Set(errors.map((x) => x.line)).size, parsed.total);
        return reply.code(400).send({
          statusCode: 400,
          code: e.code,
          error: 'Bad Request',
          message: e.message,
          errors: errors.slice(0, IMPORT_MAX_ERRORS),
          errorsTruncated: errors.length > IMPORT_MAX_ERRORS,
        });
      };
      // Rows that passed the schema are checked against the registry too, so one answer lists all.
      const { imported, problems } =
        parsed.errors.length > 0 && !partial
          ? { imported: [], problems: ctx.devices.checkImport(parsed.rows).problems }
          : await ctx.devices.importDevices(parsed.rows, { partial, actor, now: ctx.clock.now() });
      const errors = [
        ...parsed.errors,
        ...problems.map(({ line, problem }) => ({
          line,
          field: problem.field,
          message: problem.error.message,
        })),
      ].sort((a, b) => a.line - b.line);
      if (errors.length > 0 && !partial) return refuse(errors);
      ctx.audit.record(ctx.clock.now(), actor, 'devices.import', '*', {
        format,
        imported: imported.length,
        rejected: parsed.total - imported.length,
      });
      reply.code(imported.length > 0 ? 201 : 200);
      return {
        imported: imported.length,
        rejected: parsed.total - imported.length,
        errors: errors.slice(0, IMPORT_MAX_ERRORS),
        errorsTruncated: errors.length > IMPORT_MAX_ERRORS,
        secretsCsv: secretsCsv(imported),
      };
    },
  );

  r.post(
    '/api/devices/:id/rotate-secret',
    {
      preHandler: ctx.requireRole('admin', 'rotate device secrets'),
      schema: {
        tags: ['devices'],
        params: idParam,
        body: rotateBody,
        response: {
          200: z.object({ id: z.string(), secret: z.string(), previousValidUntil: z.string().nullable() }),
        },
      },
    },
    async (req) => {
      const { device, secret, previousValidUntil } = await ctx.devices.rotateSecret(
        req.params.id,
        req.body.graceSeconds,
        req.principal!.name,
      );
      // Without a grace the old secret is dead now: so is a session opened with it.
      if (previousValidUntil === null) ctx.link.disconnect(device.id);
      return {
        id: device.id,
        secret, // shown this once; only its hash is kept
        previousValidUntil: previousValidUntil === null ? null : new Date(previousValidUntil).toISOString(),
      };
    },
  );

  const decommission = async (id: string, actor: string, reason?: string) => {
    const device = await ctx.devices.decommission(id, actor, reason);
    ctx.link.disconnect(device.id);
    return deviceToView(ctx, device);
  };
  r.post(
    '/api/devices/:id/decommission',
    {
      preHandler: ctx.requireRole('admin', 'decommission devices'),
      schema: { tags: ['devices'], params: idParam, body: decommissionBody, response: { 200: deviceView } },
    },
    async (req) => decommission(req.params.id, req.principal!.name, req.body?.reason),
  );
  r.delete(
    '/api/devices/:id',
    {
      preHandler: ctx.requireRole('admin', 'decommission devices'),
      schema: {
        tags: ['devices'],
        description: 'decommissions the device: its history, commands and audit stay, its id is not reused',
        params: idParam,
        response: { 200: deviceView },
      },
    },
    async (req) => decommission(req.params.id, req.principal!.name),
  );

  r.get(
    '/api/audit',
    {
      preHandler: ctx.requireRole('operator', 'read the audit trail'),
      schema: {
        tags: ['operations'],
        querystring: auditQuery,
        response: {
          200: z.object({ total: z.number(), entries: z.array(auditView), next: z.string().nullable() }),
        },
      },
    },
    async (req) => {
      const q = req.query;
      const { entries, total, more } = await ctx.audit.list({
        subject: q.device,
        actor: q.actor,
        action: q.action,
        since: q.since === undefined ? undefined : Date.parse(q.since),
        until: q.until === undefined ? undefined : Date.parse(q.until),
        beforeId: q.beforeId,
        limit: q.limit,
      });
      const last = more ? entries.at(-1) : undefined;
      return {
        total,
        entries: entries.map((e) => ({ ...e, at: new Date(e.at).toISOString() })),
        next: nextPage('/api/audit', q, last ? { beforeId: last.id } : null),
      };
    },
  );
}
