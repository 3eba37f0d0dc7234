import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type Device, deviceStatus } from '../../../device-registry/devices.ts';
import { isoTime as iso } from '../../clock.ts';
import type { GatewayContext } from '../../context.ts';
import { nextPage } from '../pagination.ts';
import { deviceListQuery, deviceView, idParam, newDeviceBody, patchDeviceBody } from '../schemas.ts';

export function deviceToView(ctx: GatewayContext, d: Device) {
  const view = {
    id: d.id,
    model: d.model,
    family: d.family,
    firmware: d.firmware,
    district: d.district,
    ward: d.ward,
    lat: d.lat,
    lon: d.lon,
    tags: d.tags,
    enabled: d.enabled,
    status: deviceStatus(d),
    modbus: d.modbus,
    createdAt: new Date(d.createdAt).toISOString(),
    lastSeenAt: iso(d.lastSeenAt),
    lastReading: d.lastReading,
    lastReadingAt: iso(d.lastReadingAt),
    reportedState: d.reportedState,
    decommissionedAt: iso(d.decommissionedAt ?? null),
  };
  return Object.assign(view, ...ctx.deviceExtras.map((extra) => extra(d)));
}

export function deviceRoutes(app: FastifyInstance, ctx: GatewayContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.post(
    '/api/devices',
    {
      preHandler: ctx.requireRole('admin', 'register devices'),
      schema: {
        tags: ['devices'],
        body: newDeviceBody,
        response: { 201: deviceView.extend({ secret: z.string().nullable() }) },
      },
    },
    async (req, reply) => {
      const now = ctx.clock.now();
      const { device, secret } = await ctx.devices.register(req.body, now);
      ctx.audit.record(now, req.principal!.name, 'device.register', device.id, { model: device.model });
      reply.code(201);
      // The secret is shown this once; only its hash is kept.
      return { ...deviceToView(ctx, device), secret };
    },
  );
  r.get(
    '/api/devices',
    {
      preHandler: ctx.requireRole('viewer', 'list devices'),
      schema: {
        tags: ['devices'],
        querystring: deviceListQuery,
        response: {
          200: z.object({ total: z.number(), devices: z.array(deviceView), next: z.string().nullable() }),
        },
      },
    },
    async (req) => {
      const { limit, offset, ...filter } = req.query;
      const all = ctx.devices.list(filter);
      const more = offset + limit < all.length;
      return {
        total: all.length,
        devices: all.slice(offset, offset + limit).map((d) => deviceToView(ctx, d)),
        next: nextPage('/api/devices', req.query, more ? { offset: offset + limit } : null),
      };
    },
  );
  r.get(
    '/api/devices/:id',
    {
      preHandler: ctx.requireRole('viewer', 'read devices'),
      schema: { tags: ['devices'], params: idParam, response: { 200: deviceView } },
    },
    // In a cluster, the last reading and state other nodes wrote (lists show this node's view).
    async (req) =>
      deviceToView(ctx, (await ctx.devices.refresh(req.params.id)) ?? ctx.devices.require(req.params.id)),
  );
  r.patch(
    '/api/devices/:id',
    {
      preHandler: ctx.requireRole('admin', 'change devices'),
      schema: { tags: ['devices'], params: idParam, body: patchDeviceBody, response: { 200: deviceView } },
    },
    async (req) => {
      const { enabled, ...patch } = req.body;
      const actor = req.principal!.name;
      if (Object.values(patch).some((v) => v !== undefined))
        await ctx.devices.update(req.params.id, patch, actor);
      if (enabled !== undefined) {
        const device = await ctx.devices.setEnabled(req.params.id, enabled);
        ctx.audit.record(ctx.clock.now(), actor, enabled ? 'device.enable' : 'device.disable', device.id);
        // A disabled device is cut off at once, not at its next reconnect.
        if (!enabled) ctx.link.disconnect(device.id);
      }
      return deviceToView(ctx, ctx.devices.require(req.params.id));
    },
  );
}
