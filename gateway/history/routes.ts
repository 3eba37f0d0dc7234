import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { deviceStatus } from '../../device-registry/devices.ts';
import { SEVERITIES, type Severity } from '../alarms/types.ts';
import type { RouteModule } from '../api/app.ts';
import { idParam } from '../api/schemas.ts';
import { isoTime as iso } from '../clock.ts';
import type { GatewayContext } from '../context.ts';
import { NotFoundError } from '../errors.ts';
import { districtNames, districtSummary, type OpenAlarmCounts } from './district-summary.ts';
import { formatStep, parseHistoryQuery } from './history-query.ts';
import type { HistorySource } from './history-source.ts';

const historyQuery = z.object({
  fields: z.string().optional().describe('comma-separated numeric canonical fields; default all of them'),
  from: z.string().optional().describe("ISO 8601 with a zone, 'now' or relative like -24h; default to - 24h"),
  to: z.string().optional().describe("ISO 8601 with a zone, 'now' or relative like -1h; default now"),
  step: z.string().optional().describe('bucket width in whole minutes: 1m, 5m, 1h; default 5m'),
});

const bucketView = z.object({
  t: z.string(),
  count: z.number(),
  min: z.number(),
  mean: z.number(),
  max: z.number(),
  last: z.number(),
});

const historyView = z.object({
  deviceId: z.string(),
  family: z.string(),
  source: z.enum(['rollup', 'influxdb']),
  from: z.string(),
  to: z.string(),
  step: z.string(),
  fields: z.record(z.string(), z.array(bucketView)),
});

const statusCounts = z.object({ online: z.number(), offline: z.number(), disabled: z.number() });
const severityCounts = z.object(
  Object.fromEntries(SEVERITIES.map((s) => [s, z.number()])) as Record<Severity, z.ZodNumber>,
);

const districtListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});

const districtListView = z.object({
  total: z.number(),
  districts: z.array(statusCounts.extend({ name: z.string(), devices: z.number(), openAlarms: z.number() })),
});

const summaryView = z.object({
  district: z.string(),
  at: z.string(),
  devices: z.object({ total: z.number(), byFamily: z.record(z.string(), statusCounts) }),
  openAlarms: severityCounts,
  means: z.object({
    source: z.enum(['rollup', 'influxdb']),
    from: z.string(),
    to: z.string(),
    byFamily: z.record(z.string(), z.record(z.string(), z.number().nullable())),
    error: z.string().optional(),
  }),
});

/** Device history and the district summary (issue 9, items 6 and the summary). */
export function historyRoutes(source: () => HistorySource, openAlarms: OpenAlarmCounts): RouteModule {
  return (app: FastifyInstance, ctx: GatewayContext) => {
    const r = app.withTypeProvider<ZodTypeProvider>();
    r.get(
      '/api/devices/:id/history',
      {
        preHandler: ctx.requireRole('viewer', 'read device history'),
        schema: {
          tags: ['history'],
          params: idParam,
          querystring: historyQuery,
          response: { 200: historyView },
        },
      },
      async (req) => {
        const device = ctx.devices.require(req.params.id);
        const q = parseHistoryQuery(req.query, device, ctx.clock.now());
        const src = source();
        const fields = await src.history(q);
        return {
          deviceId: device.id,
          family: device.family,
          source: src.name,
          from: iso(q.from),
          to: iso(q.to),
          step: formatStep(q.stepMs),
          fields: Object.fromEntries(
            Object.entries(fields).map(([f, buckets]) => [f, buckets.map((b) => ({ ...b, t: iso(b.t) }))]),
          ),
        };
      },
    );
    r.get(
      '/api/districts',
      {
        preHandler: ctx.requireRole('viewer', 'read districts'),
        schema: { tags: ['history'], querystring: districtListQuery, response: { 200: districtListView } },
      },
      async (req) => {
        const counts = new Map<string, { online: number; offline: number; disabled: number }>();
        for (const d of ctx.devices.values()) {
          const c = counts.get(d.district) ?? { online: 0, offline: 0, disabled: 0 };
          counts.set(d.district, c);
          c[deviceStatus(d)]++;
        }
        const names = districtNames(counts.keys());
        const page = names.slice(req.query.offset, req.query.offset + req.query.limit);
        return {
          total: names.length,
          districts: page.map((name) => {
            const c = counts.get(name) ?? { online: 0, offline: 0, disabled: 0 };
            const alarms = openAlarms(name);
            return {
              name,
              devices: c.online + c.offline + c.disabled,
              ...c,
              openAlarms: SEVERITIES.reduce((n, s) => n + alarms[s], 0),
            };
          }),
        };
      },
    );
    r.get(
      '/api/districts/:name/summary',
      {
        preHandler: ctx.requireRole('viewer', 'read districts'),
        schema: {
          tags: ['history'],
          params: z.object({ name: z.string().min(1).max(100) }),
          response: { 200: summaryView },
        },
      },
      async (req) => {
        const { name } = req.params;
        const devices = ctx.devices.list({ district: name });
        if (!devices.length && !districtNames([]).includes(name)) throw new NotFoundError('district', name);
        return districtSummary({ name, devices, now: ctx.clock.now(), source: source(), openAlarms });
      },
    );
  };
}
