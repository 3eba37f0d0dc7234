import type { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { FirmwareArtifact } from '../../device-registry/firmware-artifacts.ts';
import type { GatewayContext } from '../context.ts';
import type { ArtifactService } from './artifact-service.ts';
import { parseByteRange } from './byte-range.ts';
import { DownloadDeniedError, UploadContentTypeError } from './errors.ts';

export const artifactId = z
  .string()
  .regex(/^fw_[0-9a-f]{18}$/, 'a firmware artifact id (fw_ and 18 hex digits)');
const versionPattern = z
  .string()
  .regex(/^\d+(\.\d+){0,2}(\.x)?$/, 'a version (1.4.2) or a range (1.x, 1.4.x)');

const uploadQuery = z.object({
  model: z.string().min(1).max(100),
  version: z.string().regex(/^\d+(\.\d+){0,3}$/, 'a version like 2.1.0'),
  /** Comma-separated versions or ranges the image upgrades from. */
  from: z
    .string()
    .max(500)
    .transform((s) => s.split(',').map((v) => v.trim()))
    .pipe(z.array(versionPattern).min(1).max(16)),
  sha256: z
    .string()
    .regex(/^[0-9A-Fa-f]{64}$/, '64 hex digits')
    .transform((s) => s.toLowerCase()),
  /** The file's name, shown to people; never a path. */
  name: z
    .string()
    .max(200)
    .refine((s) => !/\p{Cc}/u.test(s), 'no control characters')
    .optional(),
});

export const artifactView = z.object({
  id: z.string(),
  model: z.string(),
  version: z.string(),
  fromVersions: z.array(z.string()),
  sha256: z.string(),
  size: z.number(),
  name: z.string().nullable(),
  createdAt: z.string(),
  createdBy: z.string(),
});

export const toArtifactView = (a: FirmwareArtifact) => ({
  ...a,
  createdAt: new Date(a.createdAt).toISOString(),
});

/**
 * POST/GET/DELETE /api/firmware, and the image itself with range requests. Devices download with
 * the per-device token of their otaUpdate command (`?token=`); people with their bearer token.
 */
export function firmwareRoutes(
  service: ArtifactService,
  grant: (token: string, artifactId: string) => Promise<boolean>,
) {
  return (app: FastifyInstance, ctx: GatewayContext): void => {
    const viewer = ctx.requireRole('viewer', 'read firmware artifacts');
    const admin = ctx.requireRole('admin', 'add or delete firmware artifacts');
    const tags = ['firmware'];
    app.register(async (sub) => {
      // The image is streamed to its store while hashed; it never sits whole in memory.
      sub.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));
      const r = sub.withTypeProvider<ZodTypeProvider>();
      r.post(
        '/api/firmware',
        {
          preHandler: admin,
          schema: { tags, querystring: uploadQuery, response: { 201: artifactView } },
        },
        async (req, reply) => {
          const q = req.query;
          const declared = req.headers['content-length'];
          const meta = {
            model: q.model,
            version: q.version,
            fromVersions: q.from,
            sha256: q.sha256,
            name: q.name,
          };
          const length = declared === undefined ? undefined : Number(declared);
          if (typeof (req.body as Readable | undefined)?.pipe !== 'function') {
            await service.precheck(meta, length);
            throw new UploadContentTypeError();
          }
          try {
            const a = await service.upload(req.body as Readable, meta, req.principal!.name, length);
            return reply.code(201).send(toArtifactView(a));
          } catch (err) {
            // Past the bound the rest of the body is not read: the connection goes with the answer.
            if ((err as { statusCode?: number }).statusCode === 413) reply.header('connection', 'close');
            throw err;
          }
        },
      );
    });
    const r = app.withTypeProvider<ZodTypeProvider>();
    r.get(
      '/api/firmware',
      {
        preHandler: viewer,
        schema: {
          tags,
          querystring: z.object({ model: z.string().min(1).max(100).optional() }),
          response: { 200: z.object({ artifacts: z.array(artifactView) }) },
        },
      },
      async (req) => ({
        artifacts: (await service.store.list({ model: req.query.model })).map(toArtifactView),
      }),
    );
    r.get(
      '/api/firmware/:id',
      {
        preHandler: viewer,
        schema: { tags, params: z.object({ id: artifactId }), response: { 200: artifactView } },
      },
      async (req) => toArtifactView(await service.require(req.params.id)),
    );
    r.delete(
      '/api/firmware/:id',
      { preHandler: admin, schema: { tags, params: z.object({ id: artifactId }) } },
      async (req, reply) => {
        await service.delete(req.params.id, req.principal!.name);
        return reply.code(204).send();
      },
    );
    r.get(
      '/api/firmware/:id/download',
      {
        preHandler: async (req, reply) => {
          if (req.headers.authorization) return viewer(req, reply);
          const { token } = req.query as { token?: string };
          const { id } = req.params as { id: string };
          if (!token || !(await grant(token, id))) throw new DownloadDeniedError();
        },
        schema: {
          tags,
          params: z.object({ id: artifactId }),
          querystring: z.object({ token: z.string().min(1).max(200).optional() }),
        },
      },
      async (req, reply) => {
        const a = await service.require(req.params.id);
        const etag = `"${a.sha256}"`;
        reply
          .header('accept-ranges', 'bytes')
          .header('etag', etag)
          .header('cache-control', 'private, no-transform')
          .header('content-type', 'application/octet-stream');
        if (req.headers['if-none-match'] === etag) return reply.code(304).send();
        // If-Range with another validator: the image changed under the client, so the whole of it.
        const ifRange = req.headers['if-range'];
        const range =
          ifRange === undefined || ifRange === etag ? parseByteRange(req.headers.range, a.size) : null;
        if (range === 'unsatisfiable')
          return reply.code(416).header('content-range', `bytes */${a.size}`).send();
        if (range === null) return reply.code(200).header('content-length', a.size).send(service.read(a));
        return reply
          .code(206)
          .header('content-range', `bytes ${range.start}-${range.end}/${a.size}`)
          .header('content-length', range.end - range.start + 1)
          .send(service.read(a, range.start, range.end));
      },
    );
  };
}
