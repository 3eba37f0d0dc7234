import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { GatewayContext } from '../../context.ts';
import { NotFoundError } from '../../errors.ts';
import { counterValue } from '../../metrics.ts';
import type { PumpStats } from '../../sink-pump.ts';
import { nextPage } from '../pagination.ts';
import { deadLetterQuery, idParam, newTokenBody, quarantineQuery, quarantineView } from '../schemas.ts';

/** Quarantine, tokens, counters, health and Prometheus metrics. */
export function operationRoutes(app: FastifyInstance, ctx: GatewayContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { metrics } = ctx;

  r.get(
    '/api/quarantine',
    {
      preHandler: ctx.requireRole('viewer', 'read the quarantine'),
      schema: {
        tags: ['quarantine'],
        querystring: quarantineQuery,
        response: {
          200: z.object({ total: z.number(), entries: z.array(quarantineView), next: z.string().nullable() }),
        },
      },
    },
    async (req) => {
      const entries = ctx.outbox.quarantine(req.query);
      const last = entries.length === req.query.limit ? entries.at(-1) : undefined;
      return {
        total: ctx.outbox.quarantineCount(req.query.deviceId),
        entries: entries.map((q) => ({ ...q, receivedAt: new Date(q.receivedAt).toISOString() })),
        next: nextPage('/api/quarantine', req.query, last ? { beforeId: last.id } : null),
      };
    },
  );

  r.post(
    '/api/tokens',
    {
      preHandler: ctx.requireRole('admin', 'create tokens'),
      schema: {
        tags: ['tokens'],
        body: newTokenBody,
        response: {
          201: z.object({ id: z.string(), name: z.string(), role: z.string(), token: z.string() }),
        },
      },
    },
    async (req, reply) => {
      const now = ctx.clock.now();
      const created = await ctx.tokens.create(req.body.name, req.body.role, req.principal!.name, now);
      ctx.audit.record(now, req.principal!.name, 'token.create', created.id, {
        name: created.name,
        role: created.role,
      });
      reply.code(201);
      return created; // shown once; stored hashed
    },
  );
  r.get(
    '/api/tokens',
    { preHandler: ctx.requireRole('admin', 'list tokens'), schema: { tags: ['tokens'] } },
    async () => ({
      tokens: await ctx.tokens.list(),
    }),
  );
  r.delete(
    '/api/tokens/:id',
    { preHandler: ctx.requireRole('admin', 'revoke tokens'), schema: { tags: ['tokens'], params: idParam } },
    async (req, reply) => {
      if (!(await ctx.tokens.revoke(req.params.id, ctx.clock.now())))
        throw new NotFoundError('token', req.params.id);
      ctx.audit.record(ctx.clock.now(), req.principal!.name, 'token.revoke', req.params.id);
      reply.code(204);
    },
  );

  r.get(
    '/api/stats',
    { preHandler: ctx.requireRole('viewer', 'read counters'), schema: { tags: ['operations'] } },
    async () => ({
      received: await counterValue(metrics.received),
      accepted: await counterValue(metrics.accepted),
      quarantined: await counterValue(metrics.quarantined),
      stateReports: await counterValue(metrics.stateReports),
      buffered: ctx.outbox.pending,
      bufferedBytes: ctx.outbox.bytes,
      /** Readings, quarantine and dead letters together, as counted against OUTBOX_MAX_BYTES. */
      outboxDiskBytes: ctx.outbox.diskBytes,
      quarantineEvicted: await counterValue(metrics.quarantineEvicted),
      written: await counterValue(metrics.written),
      dropped: await counterValue(metrics.dropped),
      connectionsRefused: await counterValue(metrics.connectionsRefused),
      aclDenied: await counterValue(metrics.aclDenied),
      connectedDevices: (await metrics.connected.get()).values[0]?.value ?? 0,
      devices: ctx.devices.count(),
      deadLettered: ctx.outbox.deadLetterCount(),
      sink: sinkState(ctx.sinkName, ctx.pump.stats),
    }),
  );

  r.get(
    '/api/sink/dead-letters',
    {
      preHandler: ctx.requireRole('viewer', 'read dead letters'),
      schema: {
        tags: ['operations'],
        querystring: deadLetterQuery,
      },
    },
    async (req) => {
      const entries = ctx.outbox.deadLetters(req.query);
      const last = entries.length === req.query.limit ? entries.at(-1) : undefined;
      return {
        total: ctx.outbox.deadLetterCount(),
        entries: entries.map((d) => ({ ...d, at: new Date(d.at).toISOString() })),
        next: nextPage('/api/sink/dead-letters', req.query, last ? { beforeId: last.id } : null),
      };
    },
  );

  r.get('/healthz', { schema: { hide: true } }, async () => ({ ok: true }));
  r.get('/readyz', { schema: { hide: true } }, async (_req, reply) => {
    const reasons = [...notReadyReasons(ctx), ...((await ctx.clusterHealth?.()) ?? [])];
    const ready = reasons.length === 0;
    reply.code(ready ? 200 : 503);
    return {
      ready,
      reasons,
      sink: ctx.sinkName,
      sinkUp: ctx.pump.stats.sinkUp,
      outboxReadings: ctx.outbox.pending,
    };
  });
  r.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    const clusterReasons = (await ctx.clusterHealth?.()) ?? [];
    metrics.ready.set(notReadyReasons(ctx).length || clusterReasons.length ? 0 : 1);
    metrics.buffered.set(ctx.outbox.pending);
    metrics.bufferedBytes.set(ctx.outbox.bytes);
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}

/** Why a load balancer or supervisor should not send traffic here now; empty when ready. */
function notReadyReasons(ctx: GatewayContext): string[] {
  const reasons = [...ctx.disk.reasons];
  if (ctx.broker.closed) reasons.push('mqtt broker closed');
  return reasons;
}

/** The sink now; an error it recovered from is shown as past, with its times. */
function sinkState(name: string, stats: PumpStats) {
  const past = stats.pastError;
  return {
    name,
    up: stats.sinkUp,
    lastError: stats.lastError,
    pastError: past && {
      message: past.message,
      at: new Date(past.at).toISOString(),
      recoveredAt: new Date(past.recoveredAt).toISOString(),
    },
  };
}
