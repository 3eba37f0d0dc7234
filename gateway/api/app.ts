import fastifySwagger from '@fastify/swagger';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  LogController,
} from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import type { GatewayContext } from '../context.ts';
import { DiskFullError } from '../errors.ts';
import { deviceRoutes } from './routes/devices.ts';
import { fleetRoutes } from './routes/fleet.ts';
import { modelRoutes } from './routes/models.ts';
import { operationRoutes } from './routes/operations.ts';

export type RouteModule = (app: FastifyInstance, ctx: GatewayContext) => void;

/** The HTTP API: zod schemas validate requests and responses and generate the OpenAPI document. */
export async function buildApi(
  ctx: GatewayContext,
  extraRoutes: RouteModule[] = [],
  https?: { cert: Buffer; key: Buffer; handshakeTimeout?: number },
): Promise<FastifyInstance> {
  const app = Fastify({
    ...(https ? { https } : {}),
    loggerInstance: ctx.log.child({ module: 'http' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
  }) as unknown as FastifyInstance;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'citygate API',
        version: '0.1.0',
        description: 'Smart-city telemetry gateway and device management',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      // A bad request names the field: `body.params.level: Too big: expected number to be <=100`.
      const where = err.validationContext ?? 'request';
      const details = err.validation.map((v) => ({
        path: [where, ...(v.instancePath ? v.instancePath.split('/').filter(Boolean) : [])].join('.'),
        message: v.message ?? 'invalid',
      }));
      return reply.code(400).send({
        statusCode: 400,
        code: 'GW_ERR_VALIDATION',
        error: 'Bad Request',
        message: details.map((d) => `${d.path}: ${d.message}`).join('; '),
        details,
      });
    }
    // A write that found the disk full: a clean 507 with a code, and the gateway turns not ready.
    if (ctx.disk.fail('registry', err)) err = new DiskFullError('registry');
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) req.log.error({ err }, 'request failed');
    return reply.code(status).send({
      statusCode: status,
      code: err.code ?? 'GW_ERR_INTERNAL',
      error: status >= 500 ? 'Internal Server Error' : (err.name ?? 'Error'),
      message: status >= 500 && !err.code ? 'internal error' : err.message,
    });
  });

  modelRoutes(app, ctx);
  deviceRoutes(app, ctx);
  fleetRoutes(app, ctx);
  operationRoutes(app, ctx);
  for (const routes of extraRoutes) routes(app, ctx);
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  return app;
}
