import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AlarmHistoryEntry } from '../../device-registry/alarms.ts';
import { familyParam, idParam } from '../api/schemas.ts';
import type { GatewayContext } from '../context.ts';
import type { AlarmService } from './alarm-service.ts';
import { ALARM_STATES, type AlarmState, SEVERITIES } from './types.ts';

const stateEnum = z.enum(Object.keys(ALARM_STATES) as [AlarmState, ...AlarmState[]]);
const severityEnum = z.enum(SEVERITIES);
const transitionEnum = z.enum([
  'raised',
  'repeated',
  'acknowledged',
  'cleared',
  'closed',
  'shelved',
  'unshelved',
]);
const OPEN_STATES: AlarmState[] = ['active_unacknowledged', 'active_acknowledged', 'cleared_unacknowledged'];

export const alarmViewSchema = z.object({
  id: z.string(),
  deviceId: z.string(),
  family: z.string(),
  district: z.string(),
  ward: z.string(),
  ruleId: z.string(),
  severity: severityEnum,
  state: stateEnum,
  message: z.string(),
  value: z.union([z.number(), z.boolean(), z.string()]).nullable(),
  occurrences: z.number(),
  raisedAt: z.string(),
  updatedAt: z.string(),
  acknowledgedAt: z.string().nullable(),
  acknowledgedBy: z.string().nullable(),
  clearedAt: z.string().nullable(),
  shelvedUntil: z.string().nullable(),
  shelvedBy: z.string().nullable(),
  shelveReason: z.string().nullable(),
});

const historyView = z.object({
  at: z.string(),
  transition: transitionEnum,
  state: stateEnum,
  actor: z.string(),
  detail: z.string().nullable(),
});

const listQuery = z.object({
  /** "open" (the default) is every state but closed; "all" includes closed alarms. */
  state: z.union([stateEnum, z.enum(['open', 'all'])]).default('open'),
  severity: severityEnum.optional(),
  family: familyParam.optional(),
  district: z.string().min(1).optional(),
  device: z.string().min(1).optional(),
  shelved: z.enum(['true', 'false']).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});

/** ISA-18.2 wants shelving time-limited; a week is the longest we allow. */
const shelveBody = z.object({
  minutes: z
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 60),
  reason: z.string().trim().min(1).max(500),
});

const historyToView = (h: AlarmHistoryEntry) => ({ ...h, at: new Date(h.at).toISOString() });

/** GET /api/alarms, one alarm with its history, acknowledge, shelve and unshelve. */
export function alarmRoutes(service: AlarmService) {
  return (app: FastifyInstance, ctx: GatewayContext): void => {
    const r = app.withTypeProvider<ZodTypeProvider>();
    const viewer = ctx.requireRole('viewer', 'read alarms');
    const operator = ctx.requireRole('operator', 'acknowledge or shelve alarms');
    const tags = ['alarms'];
    r.get(
      '/api/alarms',
      {
        preHandler: viewer,
        schema: {
          tags,
          querystring: listQuery,
          response: {
            200: z.object({
              total: z.number(),
              limit: z.number(),
              offset: z.number(),
              alarms: z.array(alarmViewSchema),
            }),
          },
        },
      },
      async (req) => {
        const q = req.query;
        const states = q.state === 'open' ? OPEN_STATES : q.state === 'all' ? undefined : [q.state];
        const { total, alarms } = await service.list({
          states,
          severity: q.severity,
          family: q.family,
          district: q.district,
          deviceId: q.device,
          shelved: q.shelved === undefined ? undefined : q.shelved === 'true',
          limit: q.limit,
          offset: q.offset,
        });
        return { total, limit: q.limit, offset: q.offset, alarms };
      },
    );
    r.get(
      '/api/alarms/:id',
      {
        preHandler: viewer,
        schema: {
          tags,
          params: idParam,
          response: { 200: alarmViewSchema.extend({ history: z.array(historyView) }) },
        },
      },
      async (req) => {
        const { alarm, history } = await service.get(req.params.id);
        return { ...alarm, history: history.map(historyToView) };
      },
    );
    const act = {
      preHandler: operator,
      schema: { tags, params: idParam, response: { 200: alarmViewSchema } },
    };
    r.post('/api/alarms/:id/ack', act, async (req) =>
      service.acknowledge(req.params.id, req.principal!.name),
    );
    r.post('/api/alarms/:id/unshelve', act, async (req) =>
      service.unshelve(req.params.id, req.principal!.name),
    );
    r.post('/api/alarms/:id/shelve', { ...act, schema: { ...act.schema, body: shelveBody } }, async (req) =>
      service.shelve(req.params.id, req.principal!.name, req.body.minutes, req.body.reason),
    );
  };
}
