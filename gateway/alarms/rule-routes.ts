import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { StoredOverride } from '../../device-registry/alarms.ts';
import type { Family } from '../../firmware-specs/families.ts';
import { familyParam } from '../api/schemas.ts';
import type { GatewayContext } from '../context.ts';
import type { RuleInfo } from './engine-port.ts';
import { OVERRIDE_SCOPES, type RuleOverrides } from './rule-overrides.ts';
import { SEVERITIES } from './types.ts';

/** A rule as shown: the fields every rule has, plus the engine's own (conditions, delays, source). */
const ruleView = z.looseObject({
  id: z.string(),
  family: z.string(),
  severity: z.enum(SEVERITIES),
  description: z.string(),
});

const overrideView = z.object({
  scope: z.enum(OVERRIDE_SCOPES),
  key: z.string(),
  ruleId: z.string(),
  override: z.record(z.string(), z.unknown()),
  updatedAt: z.string(),
  updatedBy: z.string(),
});

const overrideParams = z.object({
  scope: z.enum(OVERRIDE_SCOPES),
  key: z.string().min(1).max(128),
  ruleId: z.string().min(1).max(128),
});

const shown = (rules: readonly RuleInfo[]) =>
  rules as ReadonlyArray<RuleInfo & Record<string, unknown>> as Array<RuleInfo & Record<string, unknown>>;

const toView = (o: StoredOverride) => ({
  scope: o.scope,
  key: o.key,
  ruleId: o.ruleId,
  override: o.body,
  updatedAt: new Date(o.updatedAt).toISOString(),
  updatedBy: o.updatedBy,
});

/**
 * GET /api/alarm-rules: the defaults of a family, or the effective rules of one device with the
 * overrides that shaped them. PUT and DELETE /api/alarm-rules/overrides/{scope}/{key}/{ruleId}
 * (admin): the body is the engine's override without its key fields (enabled, severity,
 * thresholds, delays); it is validated by the engine's schema and applies at once.
 */
export function ruleRoutes<R extends RuleInfo>(overrides: RuleOverrides<R>) {
  return (app: FastifyInstance, ctx: GatewayContext): void => {
    const r = app.withTypeProvider<ZodTypeProvider>();
    const tags = ['alarm rules'];
    r.get(
      '/api/alarm-rules',
      {
        preHandler: ctx.requireRole('viewer', 'read alarm rules'),
        schema: {
          tags,
          querystring: z.object({ family: familyParam.optional(), device: z.string().min(1).optional() }),
          response: {
            200: z.object({
              device: z.string().nullable(),
              rules: z.array(ruleView),
              overrides: z.array(overrideView),
            }),
          },
        },
      },
      async (req) => {
        const o = overrides;
        if (req.query.device) {
          const device = ctx.devices.require(req.query.device);
          return {
            device: device.id,
            rules: shown(o.rulesFor(device)),
            overrides: o.applying(device).map(toView),
          };
        }
        const family = req.query.family as Family | undefined;
        return { device: null, rules: shown(o.defaultRules(family)), overrides: o.all().map(toView) };
      },
    );
    r.put(
      '/api/alarm-rules/overrides/:scope/:key/:ruleId',
      {
        preHandler: ctx.requireRole('admin', 'edit alarm rules'),
        schema: {
          tags,
          params: overrideParams,
          body: z.record(z.string(), z.unknown()),
          response: { 200: overrideView, 201: overrideView },
        },
      },
      async (req, reply) => {
        const { scope, key, ruleId } = req.params;
        const now = ctx.clock.now();
        const actor = req.principal!.name;
        const { override, created } = await overrides.put(scope, key, ruleId, req.body, actor, now);
        ctx.audit.record(now, actor, 'alarm_rule.override', `${scope}/${key}/${ruleId}`, override.body);
        reply.code(created ? 201 : 200);
        return toView(override);
      },
    );
    r.delete(
      '/api/alarm-rules/overrides/:scope/:key/:ruleId',
      { preHandler: ctx.requireRole('admin', 'edit alarm rules'), schema: { tags, params: overrideParams } },
      async (req, reply) => {
        const { scope, key, ruleId } = req.params;
        await overrides.delete(scope, key, ruleId);
        ctx.audit.record(
          ctx.clock.now(),
          req.principal!.name,
          'alarm_rule.override_removed',
          `${scope}/${key}/${ruleId}`,
        );
        reply.code(204);
      },
    );
  };
}
