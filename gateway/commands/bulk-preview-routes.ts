import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { familyParam } from '../api/schemas.ts';
import type { GatewayContext } from '../context.ts';
import { countReasons, selectForBulk } from './bulk-selection.ts';

const name = z.string().min(1).max(128);

export const bulkSelector = z
  .object({
    family: familyParam.optional(),
    district: name.optional(),
    ward: name.optional(),
    tag: name.optional(),
    model: name.optional(),
    ids: z.array(z.string()).min(1).max(100_000).optional(),
  })
  .refine(
    (s) => Object.values(s).some((v) => v !== undefined),
    'name at least one of family, district, ward, tag, model, ids',
  );

const previewBody = z.object({
  selector: bulkSelector,
  /** Without a command, the preview counts the enabled devices the selector matches. */
  name: name.optional(),
  params: z.record(z.string(), z.unknown()).optional(),
});

const previewView = z.object({
  matched: z.number().describe('enabled devices the selector matches'),
  disabled: z.number().describe('disabled devices it matches: never sent'),
  eligible: z.number().describe('devices that would be given the command'),
  byModel: z.record(z.string(), z.number()),
  skipped: z.number(),
  skippedReasons: z.array(z.object({ reason: z.string(), devices: z.number() })),
  needsConfirm: z.boolean().describe('some device asks confirm: true for these params'),
});

const count = z.object({ name: z.string(), devices: z.number() });
const targetsView = z.object({
  families: z.array(count),
  models: z.array(count.extend({ family: z.string() })),
  districts: z.array(count.extend({ wards: z.array(count) })),
});

const sortedCounts = (m: Map<string, number>) =>
  [...m].map(([n, devices]) => ({ name: n, devices })).sort((a, b) => a.name.localeCompare(b.name, 'vi'));

/**
 * What a bulk command can target and what it would reach, without sending anything: the
 * dashboard's bulk page fills its pickers from `targets` and shows the `preview` count.
 */
export function bulkPreviewRoutes(app: FastifyInstance, ctx: GatewayContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const operator = ctx.requireRole('operator', 'plan group commands');
  r.post(
    '/api/commands/bulk/preview',
    {
      preHandler: operator,
      schema: { tags: ['commands'], body: previewBody, response: { 200: previewView } },
    },
    async (req) => {
      const { selector, name: cmd, params } = req.body;
      const sel = selectForBulk(ctx.devices, selector, cmd ? { name: cmd, params } : undefined);
      return {
        matched: sel.matched,
        disabled: sel.disabled,
        eligible: sel.deviceIds.length,
        byModel: sel.byModel,
        skipped: sel.skipped.length,
        skippedReasons: countReasons(sel.skipped).slice(0, 20),
        needsConfirm: sel.needsConfirm,
      };
    },
  );
  r.get(
    '/api/commands/bulk/targets',
    { preHandler: operator, schema: { tags: ['commands'], response: { 200: targetsView } } },
    async () => {
      const families = new Map<string, number>();
      const models = new Map<string, { family: string; devices: number }>();
      const districts = new Map<string, Map<string, number>>();
      for (const d of ctx.devices.values()) {
        if (!d.enabled) continue;
        families.set(d.family, (families.get(d.family) ?? 0) + 1);
        const m = models.get(d.model) ?? { family: d.family, devices: 0 };
        m.devices++;
        models.set(d.model, m);
        const wards = districts.get(d.district) ?? new Map<string, number>();
        wards.set(d.ward, (wards.get(d.ward) ?? 0) + 1);
        districts.set(d.district, wards);
      }
      return {
        families: sortedCounts(families),
        models: [...models]
          .map(([id, m]) => ({ name: id, family: m.family, devices: m.devices }))
          .sort((a, b) => a.name.localeCompare(b.name)),
        districts: [...districts]
          .map(([district, wards]) => ({
            name: district,
            devices: [...wards.values()].reduce((a, b) => a + b, 0),
            wards: sortedCounts(wards),
          }))
          .sort((a, b) => a.name.localeCompare(b.name, 'vi')),
      };
    },
  );
}
