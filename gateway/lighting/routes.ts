import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { GatewayContext } from '../context.ts';
import type { LightingService } from './lighting-service.ts';
import { isRealDate } from './local-time.ts';
import { calendarSchema, groupSchema, programSchema } from './program.ts';

const idParam = z.object({ id: z.string().min(1).max(64) });
const nightQuery = z.string().refine(isRealDate, 'a real date as YYYY-MM-DD (the evening of the night)');

const previewQuery = z
  .object({
    program: z.string().min(1).max(64).optional(),
    group: z.string().min(1).max(64).optional(),
    date: nightQuery.optional(),
    lat: z.coerce.number().min(-90).max(90).optional(),
    lon: z.coerce.number().min(-180).max(180).optional(),
    stepMinutes: z.coerce.number().int().min(1).max(120).default(10),
  })
  .refine((q) => q.program || q.group, { message: 'name a program or a group', path: ['program'] });

const lampsQuery = z.object({
  outOfStep: z.enum(['true', 'false']).optional(),
  district: z.string().min(1).max(100).optional(),
  group: z.string().min(1).max(64).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});

/** The longest an operator's manual level holds: a night. */
const overrideBody = z
  .object({
    group: groupSchema.refine(
      (g) => Object.keys(g).length > 0,
      'name at least one of district, ward, model, tag, ids',
    ),
    level: z.number().int().min(0).max(100),
    /** Holds this long; without it, until the next step of the program. */
    minutes: z
      .number()
      .int()
      .min(1)
      .max(24 * 60)
      .optional(),
    reason: z.string().trim().min(1).max(500),
  })
  .strict();

/** /api/lighting: programs, calendar, groups, lamps (expected vs reported), preview, energy, overrides. */
export function lightingRoutes(service: () => LightingService) {
  return (app: FastifyInstance, ctx: GatewayContext): void => {
    const r = app.withTypeProvider<ZodTypeProvider>();
    const viewer = ctx.requireRole('viewer', 'read lighting programs');
    const operator = ctx.requireRole('operator', 'override street lighting');
    const admin = ctx.requireRole('admin', 'edit lighting programs and the calendar');
    const tags = ['lighting'];
    const s = service;

    r.get('/api/lighting/programs', { preHandler: viewer, schema: { tags } }, async () => ({
      programs: await s().programs(),
    }));
    r.get(
      '/api/lighting/programs/:id',
      { preHandler: viewer, schema: { tags, params: idParam } },
      async (req) => s().program(req.params.id),
    );
    r.put(
      '/api/lighting/programs/:id',
      { preHandler: admin, schema: { tags, params: idParam, body: programSchema } },
      async (req, reply) => {
        if (req.body.id !== req.params.id)
          return reply.code(400).send({
            statusCode: 400,
            code: 'LGT_ERR_PROGRAM_ID_MISMATCH',
            error: 'Bad Request',
            message: `body.id (${req.body.id}) is not the id in the path (${req.params.id})`,
          });
        const created = await s().putProgram(req.body, req.principal!.name);
        return reply.code(created ? 201 : 200).send(await s().program(req.params.id));
      },
    );
    r.delete(
      '/api/lighting/programs/:id',
      { preHandler: admin, schema: { tags, params: idParam } },
      async (req, reply) => {
        await s().deleteProgram(req.params.id, req.principal!.name);
        return reply.code(204).send();
      },
    );
    r.get('/api/lighting/calendar', { preHandler: viewer, schema: { tags } }, async () => {
      const c = await s().calendar();
      return { ...c, updatedAt: new Date(c.updatedAt).toISOString() };
    });
    r.put(
      '/api/lighting/calendar',
      { preHandler: admin, schema: { tags, body: calendarSchema } },
      async (req) => ({
        version: await s().putCalendar(req.body, req.principal!.name),
      }),
    );
    r.get('/api/lighting/groups', { preHandler: viewer, schema: { tags } }, async () => ({
      scheduler: s().enabled ? 'on' : 'off',
      at: new Date(s().now()).toISOString(),
      groups: s().groups(),
    }));
    r.get(
      '/api/lighting/groups/:id',
      { preHandler: viewer, schema: { tags, params: idParam } },
      async (req) => s().group(req.params.id),
    );
    r.get(
      '/api/lighting/lamps',
      { preHandler: viewer, schema: { tags, querystring: lampsQuery } },
      async (req) => s().lamps({ ...req.query, outOfStep: req.query.outOfStep === 'true' }),
    );
    r.get(
      '/api/lighting/preview',
      { preHandler: viewer, schema: { tags, querystring: previewQuery } },
      async (req) => s().preview(req.query),
    );
    r.get(
      '/api/lighting/energy',
      { preHandler: viewer, schema: { tags, querystring: z.object({ date: nightQuery.optional() }) } },
      async (req) => s().energy(req.query.date),
    );
    r.get('/api/lighting/overrides', { preHandler: viewer, schema: { tags } }, async () => ({
      overrides: await s().overrides(),
    }));
    r.post(
      '/api/lighting/overrides',
      { preHandler: operator, schema: { tags, body: overrideBody } },
      async (req, reply) => reply.code(201).send(await s().override(req.body, req.principal!.name)),
    );
    r.delete(
      '/api/lighting/overrides/:id',
      { preHandler: operator, schema: { tags, params: idParam } },
      async (req) => s().endOverride(req.params.id, req.principal!.name),
    );
    r.post('/api/lighting/reconcile', { preHandler: operator, schema: { tags } }, async () =>
      s().reconcile(),
    );
  };
}
