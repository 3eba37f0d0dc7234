import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { deviceStatus } from '../../device-registry/devices.ts';
import { FAMILIES } from '../../firmware-specs/families.ts';
import { HANOI_DISTRICTS } from '../../simulators/hanoi.ts';
import type { AlarmService } from '../alarms/alarm-service.ts';
import { SEVERITIES, type Severity } from '../alarms/types.ts';
import type { GatewayContext } from '../context.ts';

export const DEVICE_STATUSES = ['online', 'offline', 'disabled'] as const;
const OPEN_STATES = ['active_unacknowledged', 'active_acknowledged', 'cleared_unacknowledged'] as const;

export const meView = z.object({ name: z.string(), role: z.enum(['viewer', 'operator', 'admin']) });

/**
 * The whole city in one answer for the dashboard's map: a paginated device list is too slow for
 * 10,000 devices. Devices are tuples, with family, district, status and worst open alarm as
 * indexes into the lists beside them (about 60 bytes a device).
 */
export const mapView = z.object({
  families: z.array(z.string()),
  statuses: z.array(z.enum(DEVICE_STATUSES)),
  severities: z.array(z.enum(SEVERITIES)),
  districts: z.array(z.object({ name: z.string(), lat: z.number(), lon: z.number() })),
  /** [id, family, district, lat, lon, status, worst open alarm (-1: none)] */
  devices: z.array(
    z.tuple([z.string(), z.number(), z.number(), z.number(), z.number(), z.number(), z.number()]),
  ),
  tileUrl: z.string().nullable(),
});

/** GET /api/me and GET /api/map: what the dashboard needs that the rest of the API lacks. */
export function dashboardRoutes(deps: { alarms: () => AlarmService; tileUrl: string | null }) {
  return (app: FastifyInstance, ctx: GatewayContext): void => {
    const r = app.withTypeProvider<ZodTypeProvider>();
    r.get(
      '/api/me',
      {
        preHandler: ctx.requireRole('viewer', 'read its own role'),
        schema: { tags: ['dashboard'], response: { 200: meView } },
      },
      async (req) => ({ name: req.principal!.name, role: req.principal!.role }),
    );
    r.get(
      '/api/map',
      {
        preHandler: ctx.requireRole('viewer', 'read the city map'),
        schema: { tags: ['dashboard'], response: { 200: mapView } },
      },
      async (_req, reply) => {
        // The schema documents the answer (OpenAPI) and the test holds the answer to it; checking
        // 10,000 tuples with zod on every request costs more than building them, so it is skipped.
        reply.serializer(JSON.stringify);
        const worst = await worstOpenAlarms(deps.alarms());
        const districts = HANOI_DISTRICTS.map(({ name, lat, lon }) => ({ name, lat, lon }));
        const districtIndex = new Map(districts.map((d, i) => [d.name, i]));
        const families: string[] = [...FAMILIES];
        const devices: z.infer<typeof mapView>['devices'] = [];
        for (const d of ctx.devices.values()) {
          let family = families.indexOf(d.family);
          if (family < 0) family = families.push(d.family) - 1;
          let district = districtIndex.get(d.district);
          if (district === undefined) {
            // A district outside the 30 (registered by hand): placed where its first device is.
            district = districts.push({ name: d.district, lat: d.lat ?? 0, lon: d.lon ?? 0 }) - 1;
            districtIndex.set(d.district, district);
          }
          const severity = worst.get(d.id);
          devices.push([
            d.id,
            family,
            district,
            d.lat ?? districts[district].lat,
            d.lon ?? districts[district].lon,
            DEVICE_STATUSES.indexOf(deviceStatus(d)),
            severity === undefined ? -1 : SEVERITIES.indexOf(severity),
          ]);
        }
        return {
          families,
          statuses: [...DEVICE_STATUSES],
          severities: [...SEVERITIES],
          districts,
          devices,
          tileUrl: deps.tileUrl,
        };
      },
    );
  };
}

async function worstOpenAlarms(alarms: AlarmService): Promise<Map<string, Severity>> {
  const worst = new Map<string, Severity>();
  const page = 5000;
  for (let offset = 0; ; offset += page) {
    const { alarms: batch } = await alarms.list({ states: OPEN_STATES, shelved: false, limit: page, offset });
    for (const a of batch) {
      const had = worst.get(a.deviceId);
      if (had === undefined || SEVERITIES.indexOf(a.severity) < SEVERITIES.indexOf(had))
        worst.set(a.deviceId, a.severity);
    }
    if (batch.length < page) return worst;
  }
}
