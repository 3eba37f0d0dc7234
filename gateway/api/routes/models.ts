import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ModelSpec } from '../../../firmware-specs/define-device.ts';
import { type FieldFormat, fieldFormats, settingFormats } from '../../../firmware-specs/families.ts';
import type { GatewayContext } from '../../context.ts';
import { NotFoundError } from '../../errors.ts';
import { commandFieldSchema, commandFields } from '../command-form.ts';
import { idParam } from '../schemas.ts';

export function modelView(spec: ModelSpec) {
  return {
    id: spec.id,
    family: spec.family,
    vendor: spec.vendor,
    model: spec.model,
    description: spec.description ?? null,
    reportIntervalSeconds: spec.reportIntervalSeconds ?? null,
    /** Unit and declared precision of each canonical field and setting the family reports. */
    fields: { ...fieldFormats[spec.family], ...settingFormats[spec.family] } as Record<string, FieldFormat>,
    firmware: Object.entries(spec.firmware).map(([version, fw]) => ({
      version,
      example: fw.example,
      fields: fw.telemetry.fields,
    })),
    commands: Object.entries(spec.commands).map(([name, cmd]) => ({
      name,
      mode: cmd.mode,
      description: cmd.description ?? null,
      example: cmd.example,
      params: z.toJSONSchema(cmd.params, { unrepresentable: 'any' }),
      fields: commandFields(cmd),
      guards: {
        minIntervalSeconds: cmd.guards?.minIntervalSeconds ?? null,
        needsConfirm: Boolean(cmd.guards?.confirmWhen),
        confirmWhen: cmd.guards?.confirmWhen ?? null,
      },
    })),
    modbus: spec.modbus ?? null,
  };
}

const modelResponse = z.object({
  id: z.string(),
  family: z.string(),
  vendor: z.string(),
  model: z.string(),
  description: z.string().nullable(),
  reportIntervalSeconds: z.number().nullable(),
  fields: z.record(z.string(), z.object({ unit: z.string(), decimals: z.number().optional() })),
  firmware: z.array(
    z.object({
      version: z.string(),
      example: z.record(z.string(), z.unknown()),
      fields: z.record(z.string(), z.string()),
    }),
  ),
  commands: z.array(
    z.object({
      name: z.string(),
      mode: z.string(),
      description: z.string().nullable(),
      example: z.unknown(),
      params: z.unknown(),
      /** The params as a form needs them: type, range, choices, unit. */
      fields: z.array(commandFieldSchema),
      guards: z.object({
        minIntervalSeconds: z.number().nullable(),
        /** True when some params of this command need `confirm: true`. */
        needsConfirm: z.boolean(),
        /** The params that need it: every one named here has the value given. */
        confirmWhen: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).nullable(),
      }),
    }),
  ),
  modbus: z.unknown(),
});

export function modelRoutes(app: FastifyInstance, ctx: GatewayContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const viewer = ctx.requireRole('viewer', 'read models');
  r.get(
    '/api/models',
    {
      preHandler: viewer,
      schema: { tags: ['models'], response: { 200: z.object({ models: z.array(modelResponse) }) } },
    },
    async () => ({ models: [...ctx.specs.values()].map(modelView) }),
  );
  r.get(
    '/api/models/:id',
    { preHandler: viewer, schema: { tags: ['models'], params: idParam, response: { 200: modelResponse } } },
    async (req) => {
      const spec = ctx.specs.get(req.params.id);
      if (!spec) throw new NotFoundError('model', req.params.id);
      return modelView(spec);
    },
  );
}
