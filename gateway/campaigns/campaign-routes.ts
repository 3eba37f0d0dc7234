import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  CAMPAIGN_STATUS,
  type Campaign,
  TARGET_PHASES,
  TARGET_STATUS,
  type TargetStatus,
} from '../../device-registry/campaigns.ts';
import { familyParam } from '../api/schemas.ts';
import type { GatewayContext } from '../context.ts';
import { artifactId } from '../firmware/firmware-routes.ts';
import type { CampaignEngine } from './campaign-engine.ts';
import { GROUP_STATUS } from './campaign-event.ts';

const campaignId = z.object({
  id: z.string().regex(/^camp_[0-9a-f]{12}$/, 'a campaign id (camp_ and 12 hex digits)'),
});
const percent = z.number().min(0).max(100);
const text = z.string().trim().min(1).max(100);

const newCampaignBody = z.object({
  name: text,
  artifactId,
  selector: z
    .object({
      family: familyParam.optional(),
      model: text.optional(),
      district: text.optional(),
      ward: text.optional(),
      firmware: z
        .string()
        .regex(/^\d+(\.\d+){0,2}(\.x)?$/, 'a version (1.4.2) or a range (1.x)')
        .optional(),
    })
    .strict()
    .default({}),
  /** Devices per group (the last group takes the rest), or percentages adding up to 100. */
  groups: z.union([
    z.object({ sizes: z.array(z.number().int().min(1).max(1_000_000)).min(1).max(50) }).strict(),
    z
      .object({
        percentages: z
          .array(z.number().gt(0).max(100))
          .min(1)
          .max(50)
          .refine(
            (p) => Math.abs(p.reduce((a, b) => a + b, 0) - 100) < 1e-9,
            'percentages must add up to 100',
          ),
      })
      .strict(),
  ]),
  successThreshold: percent.default(95),
  errorThreshold: percent.default(5),
  concurrency: z.number().int().min(1).max(10_000).default(50),
  timeoutSeconds: z
    .number()
    .int()
    .min(10)
    .max(7 * 24 * 3600)
    .default(900),
});

const counts = {
  pending: z.number(),
  in_progress: z.number(),
  succeeded: z.number(),
  failed: z.number(),
  cancelled: z.number(),
};
const campaignView = z.object({
  id: z.string(),
  name: z.string(),
  artifactId: z.string(),
  model: z.string().nullable(),
  version: z.string().nullable(),
  selector: z.record(z.string(), z.string()),
  status: z.enum(Object.keys(CAMPAIGN_STATUS) as [Campaign['status']]),
  reason: z.string().nullable(),
  successThreshold: z.number(),
  errorThreshold: z.number(),
  concurrency: z.number(),
  timeoutSeconds: z.number(),
  createdAt: z.string(),
  createdBy: z.string(),
  updatedAt: z.string(),
  total: z.object({ size: z.number(), ...counts }),
  groups: z.array(
    z.object({
      group: z.number(),
      size: z.number(),
      status: z.enum(Object.keys(GROUP_STATUS) as [keyof typeof GROUP_STATUS]),
      ...counts,
    }),
  ),
});
const targetView = z.object({
  deviceId: z.string(),
  group: z.number(),
  fromVersion: z.string(),
  status: z.enum(Object.keys(TARGET_STATUS) as [TargetStatus]),
  phase: z.enum(TARGET_PHASES).nullable(),
  progress: z.number().nullable(),
  commandId: z.string().nullable(),
  error: z.string().nullable(),
  updatedAt: z.string(),
});

/** POST/GET /api/campaigns, one campaign, its devices, and pause, resume, abort. */
export function campaignRoutes(engine: () => CampaignEngine) {
  return (app: FastifyInstance, ctx: GatewayContext): void => {
    const r = app.withTypeProvider<ZodTypeProvider>();
    const viewer = ctx.requireRole('viewer', 'read campaigns');
    const operator = ctx.requireRole('operator', 'pause or abort a campaign');
    const admin = ctx.requireRole('admin', 'create or resume a campaign');
    const tags = ['campaigns'];
    const iso = (t: number) => new Date(t).toISOString();
    const view = async (c: Campaign) => {
      const e = engine();
      const artifact = await e.artifactOf(c.artifactId);
      return {
        ...c,
        model: artifact?.model ?? null,
        version: artifact?.version ?? null,
        selector: c.selector as Record<string, string>,
        createdAt: iso(c.createdAt),
        updatedAt: iso(c.updatedAt),
        ...(await e.progress(c.id)),
      };
    };
    r.post(
      '/api/campaigns',
      { preHandler: admin, schema: { tags, body: newCampaignBody, response: { 201: campaignView } } },
      async (req, reply) =>
        reply.code(201).send(await view(await engine().create(req.body, req.principal!.name))),
    );
    r.get(
      '/api/campaigns',
      {
        preHandler: viewer,
        schema: {
          tags,
          querystring: z.object({
            status: z.enum(Object.keys(CAMPAIGN_STATUS) as [Campaign['status']]).optional(),
          }),
          response: { 200: z.object({ campaigns: z.array(campaignView) }) },
        },
      },
      async (req) => ({
        campaigns: await Promise.all(
          (await engine().list()).filter((c) => !req.query.status || c.status === req.query.status).map(view),
        ),
      }),
    );
    r.get(
      '/api/campaigns/:id',
      { preHandler: viewer, schema: { tags, params: campaignId, response: { 200: campaignView } } },
      async (req) => view(await engine().get(req.params.id)),
    );
    r.get(
      '/api/campaigns/:id/devices',
      {
        preHandler: viewer,
        schema: {
          tags,
          params: campaignId,
          querystring: z.object({
            status: z.enum(Object.keys(TARGET_STATUS) as [TargetStatus]).optional(),
            group: z.coerce.number().int().min(1).optional(),
            limit: z.coerce.number().int().min(1).max(1000).default(100),
            offset: z.coerce.number().int().min(0).default(0),
          }),
          response: { 200: z.object({ total: z.number(), devices: z.array(targetView) }) },
        },
      },
      async (req) => {
        const q = req.query;
        const all = (await engine().targets(req.params.id)).filter(
          (t) => (!q.status || t.status === q.status) && (!q.group || t.group === q.group - 1),
        );
        return {
          total: all.length,
          devices: all
            .slice(q.offset, q.offset + q.limit)
            .map((t) => ({ ...t, group: t.group + 1, updatedAt: iso(t.updatedAt) })),
        };
      },
    );
    const action = (name: 'pause' | 'resume' | 'abort', preHandler: typeof viewer) =>
      r.post(
        `/api/campaigns/:id/${name}`,
        { preHandler, schema: { tags, params: campaignId, response: { 200: campaignView } } },
        async (req) => view(await engine()[name](req.params.id, req.principal!.name)),
      );
    action('pause', operator);
    action('abort', operator);
    action('resume', admin);
  };
}
