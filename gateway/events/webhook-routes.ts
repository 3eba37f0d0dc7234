import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  DELIVERY_STATUS,
  type Delivery,
  type Webhook,
  type WebhookStore,
} from '../../device-registry/webhooks.ts';
import { SEVERITIES } from '../alarms/types.ts';
import { nextPage, pageLimit } from '../api/pagination.ts';
import { idParam } from '../api/schemas.ts';
import { isoTime as iso } from '../clock.ts';
import type { GatewayContext } from '../context.ts';
import { WebhookLimitError, WebhookNotFoundError } from './errors.ts';

/** Most webhooks an admin may register: each event is queued once per matching webhook. */
export const MAX_WEBHOOKS = 100;

/** Summaries (one a second) are for the events stream, not for webhooks. */
const WEBHOOK_EVENT_TYPES = ['alarm', 'presence', 'command'] as const;

const newWebhookBody = z.object({
  url: z.url({ protocol: /^https?$/, error: 'an http or https URL' }).max(2000),
  types: z.array(z.enum(WEBHOOK_EVENT_TYPES)).min(1).max(3).default(['alarm']),
  severities: z.array(z.enum(SEVERITIES)).min(1).max(4).nullable().default(null),
  description: z.string().max(200).nullable().default(null),
});

const statusEnum = z.enum(Object.keys(DELIVERY_STATUS) as [keyof typeof DELIVERY_STATUS]);

const webhookView = z.object({
  id: z.string(),
  url: z.string(),
  types: z.array(z.string()),
  severities: z.array(z.string()).nullable(),
  description: z.string().nullable(),
  createdAt: z.string(),
  createdBy: z.string(),
  deliveries: z.record(statusEnum, z.number()),
});

const deliveryView = z.object({
  id: z.number(),
  eventId: z.string(),
  eventType: z.string(),
  status: statusEnum,
  attempts: z.number(),
  nextAttemptAt: z.string().nullable(),
  lastStatusCode: z.number().nullable(),
  lastError: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const toDeliveryView = (d: Delivery) => ({
  id: d.id,
  eventId: d.eventId,
  eventType: d.eventType,
  status: d.status,
  attempts: d.attempts,
  nextAttemptAt: d.status === 'pending' ? iso(d.nextAttemptAt) : null,
  lastStatusCode: d.lastStatusCode,
  lastError: d.lastError,
  createdAt: iso(d.createdAt)!,
  updatedAt: iso(d.updatedAt)!,
});

/** POST/GET/DELETE /api/webhooks and GET /api/webhooks/{id}/deliveries, admin only (URLs may hold credentials). */
/** `changed` runs after a webhook is added or removed (the dispatcher reads the list again). */
export function webhookRoutes(store: WebhookStore, changed: () => void) {
  return (app: FastifyInstance, ctx: GatewayContext): void => {
    const r = app.withTypeProvider<ZodTypeProvider>();
    const admin = (action: string) => ctx.requireRole('admin', action);
    const view = async (w: Webhook) => ({
      id: w.id,
      url: w.url,
      types: w.types,
      severities: w.severities,
      description: w.description,
      createdAt: iso(w.createdAt)!,
      createdBy: w.createdBy,
      deliveries: { ...(await store.counts(w.id)), dropped: w.dropped },
    });
    const require = async (id: string) => {
      const w = await store.get(id);
      if (!w) throw new WebhookNotFoundError(id);
      return w;
    };

    r.post(
      '/api/webhooks',
      {
        preHandler: admin('register webhooks'),
        schema: {
          tags: ['webhooks'],
          description: 'Registers a webhook; its signing secret is in this answer only.',
          body: newWebhookBody,
          response: { 201: webhookView.extend({ secret: z.string() }) },
        },
      },
      async (req, reply) => {
        if ((await store.count()) >= MAX_WEBHOOKS) throw new WebhookLimitError(MAX_WEBHOOKS);
        const actor = req.principal!.name;
        const w = await store.create({ ...req.body, createdBy: actor }, ctx.clock.now());
        changed();
        ctx.audit.record(w.createdAt, actor, 'webhook.create', w.id, { url: w.url, types: w.types });
        reply.code(201);
        return { ...(await view(w)), secret: w.secret };
      },
    );

    r.get(
      '/api/webhooks',
      {
        preHandler: admin('read webhooks'),
        schema: {
          tags: ['webhooks'],
          querystring: z.object({
            limit: z.coerce.number().int().min(1).max(MAX_WEBHOOKS).default(MAX_WEBHOOKS),
            offset: z.coerce.number().int().min(0).default(0),
          }),
          response: {
            200: z.object({ total: z.number(), webhooks: z.array(webhookView), next: z.string().nullable() }),
          },
        },
      },
      async (req) => {
        const { limit, offset } = req.query;
        const total = await store.count();
        return {
          total,
          webhooks: await Promise.all((await store.list(req.query)).map(view)),
          next: nextPage(
            '/api/webhooks',
            req.query,
            offset + limit < total ? { offset: offset + limit } : null,
          ),
        };
      },
    );

    r.get(
      '/api/webhooks/:id',
      {
        preHandler: admin('read webhooks'),
        schema: { tags: ['webhooks'], params: idParam, response: { 200: webhookView } },
      },
      async (req) => view(await require(req.params.id)),
    );

    r.delete(
      '/api/webhooks/:id',
      { preHandler: admin('delete webhooks'), schema: { tags: ['webhooks'], params: idParam } },
      async (req, reply) => {
        if (!(await store.remove(req.params.id))) throw new WebhookNotFoundError(req.params.id);
        changed();
        ctx.audit.record(ctx.clock.now(), req.principal!.name, 'webhook.delete', req.params.id);
        reply.code(204).send();
      },
    );

    r.get(
      '/api/webhooks/:id/deliveries',
      {
        preHandler: admin('read webhook deliveries'),
        schema: {
          tags: ['webhooks'],
          description: 'Newest first; page with beforeId.',
          params: idParam,
          querystring: z.object({
            status: statusEnum.optional(),
            limit: pageLimit,
            beforeId: z.coerce.number().int().positive().optional(),
          }),
          response: { 200: z.object({ deliveries: z.array(deliveryView), next: z.string().nullable() }) },
        },
      },
      async (req) => {
        const { id } = req.params;
        await require(id);
        const rows = await store.deliveries(id, req.query);
        const last = rows.length === req.query.limit ? rows.at(-1) : undefined;
        return {
          deliveries: rows.map(toDeliveryView),
          next: nextPage(`/api/webhooks/${id}/deliveries`, req.query, last ? { beforeId: last.id } : null),
        };
      },
    );
  };
}
