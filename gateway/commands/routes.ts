import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { COMMAND_STATUS, type Command } from '../../device-registry/commands.ts';
import { idParam } from '../api/schemas.ts';
import { isoTime as iso } from '../clock.ts';
import type { GatewayContext } from '../context.ts';
import { bulkPreviewRoutes, bulkSelector } from './bulk-preview-routes.ts';
import type { BulkRollouts } from './bulk-rollout.ts';
import type { CommandService } from './command-service.ts';

const statusEnum = z.enum(Object.keys(COMMAND_STATUS) as [string, ...string[]]);

const commandView = z.object({
  id: z.string(),
  deviceId: z.string(),
  name: z.string(),
  mode: z.string(),
  params: z.record(z.string(), z.unknown()),
  status: statusEnum,
  requestedBy: z.string(),
  idempotencyKey: z.string().nullable(),
  bulkId: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  expiresAt: z.string(),
  sentAt: z.string().nullable(),
  result: z.record(z.string(), z.unknown()).nullable(),
  error: z.string().nullable(),
  history: z
    .array(z.object({ at: z.string(), status: statusEnum, actor: z.string(), detail: z.string().nullable() }))
    .optional(),
});

const toView = (
  c: Command & { history?: Array<{ at: number; status: string; actor: string; detail: string | null }> },
) => ({
  id: c.id,
  deviceId: c.deviceId,
  name: c.name,
  mode: c.mode,
  params: c.params,
  status: c.status,
  requestedBy: c.requestedBy,
  idempotencyKey: c.idempotencyKey,
  bulkId: c.bulkId,
  createdAt: new Date(c.createdAt).toISOString(),
  updatedAt: new Date(c.updatedAt).toISOString(),
  expiresAt: new Date(c.expiresAt).toISOString(),
  sentAt: iso(c.sentAt),
  result: c.result,
  error: c.error,
  history: c.history?.map((h) => ({ ...h, at: new Date(h.at).toISOString() })),
});

const submitBody = z.object({
  name: z.string().min(1).max(128),
  params: z.record(z.string(), z.unknown()).default({}),
  ttlSeconds: z
    .number()
    .int()
    .min(1)
    .max(30 * 86400)
    .optional(),
  timeoutSeconds: z.number().min(0.1).max(3600).optional(),
  idempotencyKey: z.string().min(1).max(128).optional(),
  confirm: z.boolean().optional(),
});

const bulkBody = submitBody.omit({ idempotencyKey: true }).extend({
  selector: bulkSelector,
  ratePerSecond: z.number().int().min(1).max(10_000).optional(),
});

export function commandRoutes(service: CommandService, bulk: BulkRollouts) {
  return (app: FastifyInstance, ctx: GatewayContext): void => {
    const r = app.withTypeProvider<ZodTypeProvider>();
    const operator = ctx.requireRole('operator', 'send commands');
    const viewer = ctx.requireRole('viewer', 'read commands');
    bulkPreviewRoutes(app, ctx);
    r.post(
      '/api/devices/:id/commands',
      {
        preHandler: operator,
        schema: {
          tags: ['commands'],
          params: idParam,
          body: submitBody,
          response: { 200: commandView, 201: commandView },
        },
      },
      async (req, reply) => {
        const { command, created } = await service.submit({
          ...req.body,
          deviceId: req.params.id,
          actor: req.principal!.name,
        });
        reply.code(created ? 201 : 200);
        return toView(command);
      },
    );
    r.get(
      '/api/devices/:id/commands',
      {
        preHandler: viewer,
        schema: {
          tags: ['commands'],
          params: idParam,
          querystring: z.object({
            status: statusEnum.optional(),
            limit: z.coerce.number().int().min(1).max(1000).default(100),
            /** The `next` of the previous page. */
            before: z.string().max(64).optional(),
          }),
          response: { 200: z.object({ commands: z.array(commandView), next: z.string().nullable() }) },
        },
      },
      async (req) => {
        ctx.devices.require(req.params.id);
        const page = await service.store.page(req.params.id, {
          status: req.query.status as Command['status'] | undefined,
          limit: req.query.limit,
          before: req.query.before,
        });
        return { commands: page.commands.map(toView), next: page.next };
      },
    );
    r.get(
      '/api/commands/:id',
      { preHandler: viewer, schema: { tags: ['commands'], params: idParam, response: { 200: commandView } } },
      async (req) => toView(await service.get(req.params.id)),
    );
    r.post(
      '/api/commands/:id/cancel',
      {
        preHandler: operator,
        schema: { tags: ['commands'], params: idParam, response: { 200: commandView } },
      },
      async (req) => toView(await service.cancel(req.params.id, req.principal!.name)),
    );
    r.post(
      '/api/commands/bulk',
      { preHandler: operator, schema: { tags: ['commands'], body: bulkBody } },
      async (req, reply) => {
        const status = await bulk.start({ ...req.body, actor: req.principal!.name });
        reply.code(202);
        const { devices: _omit, skipped, ...summary } = status;
        return { ...summary, skipped: skipped.slice(0, 1000), skippedTotal: skipped.length };
      },
    );
    r.get(
      '/api/commands/bulk/:id',
      {
        preHandler: viewer,
        schema: {
          tags: ['commands'],
          params: idParam,
          querystring: z.object({
            devices: z.enum(['true', 'false']).default('true'),
            /** Per-device outcomes and skipped devices are listed a page at a time. */
            limit: z.coerce.number().int().min(1).max(10_000).default(1000),
            offset: z.coerce.number().int().min(0).default(0),
          }),
        },
      },
      async (req) => {
        const { devices, skipped, ...summary } = await bulk.status(req.params.id);
        const { limit, offset } = req.query;
        const page = <T>(list: T[]) => list.slice(offset, offset + limit);
        const more = offset + limit < Math.max(devices.length, skipped.length);
        const paging = {
          skipped: page(skipped),
          skippedTotal: skipped.length,
          nextOffset: more ? offset + limit : null,
        };
        if (req.query.devices === 'false') return { ...summary, ...paging };
        return { ...summary, ...paging, devices: page(devices) };
      },
    );
  };
}
