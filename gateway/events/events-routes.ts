import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { GatewayContext } from '../context.ts';
import { EventsBusyError } from './errors.ts';
import type { EventStreams } from './event-streams.ts';

export const EVENT_TYPES = ['alarm', 'presence', 'command', 'summary', 'campaign'] as const;

const typeList = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.enum(EVENT_TYPES)).min(1));

const eventsQuery = z.object({
  types: typeList.optional(),
  district: z.string().min(1).max(100).optional(),
  lastEventId: z.string().max(64).optional(),
  /** Only here: EventSource cannot set an Authorization header. */
  token: z.string().max(200).optional(),
});

const DESCRIPTION = `Server-sent events (text/event-stream): alarm transitions, device presence, command
status changes and a once-a-second summary. Each event has an \`id:\`, an \`event:\` type and JSON \`data:\`.
Resume with the \`Last-Event-ID\` header (or \`?lastEventId=\`): the events missed are replayed from a
bounded buffer, or a \`reset\` event says to reload state. A comment line every 15 s keeps proxies open.
The token may be given as \`?token=\` (for EventSource); it is not logged, but proxies may log URLs.`;

/** GET /api/events. */
export function eventsRoutes(streams: EventStreams, maxClients: number) {
  return (app: FastifyInstance, ctx: GatewayContext): void => {
    const viewer = ctx.requireRole('viewer', 'watch events');
    // The query token stands in for the header only when there is none; the logger never sees it
    // (request logging is off and the URL is not logged on errors).
    const viewerByHeaderOrQuery = async (req: FastifyRequest, reply: FastifyReply) => {
      const { token } = req.query as z.infer<typeof eventsQuery>;
      if (!req.headers.authorization && token) req.headers.authorization = `Bearer ${token}`;
      await viewer(req, reply);
    };
    app.withTypeProvider<ZodTypeProvider>().get(
      '/api/events',
      {
        preHandler: viewerByHeaderOrQuery,
        schema: { tags: ['events'], description: DESCRIPTION, querystring: eventsQuery },
      },
      (req, reply) => {
        if (streams.full) throw new EventsBusyError(maxClients);
        const header = req.headers['last-event-id'];
        const lastEventId = (Array.isArray(header) ? header[0] : header) ?? req.query.lastEventId ?? null;
        reply.hijack();
        streams.open(
          reply.raw,
          { types: req.query.types ? new Set(req.query.types) : null, district: req.query.district ?? null },
          lastEventId,
        );
      },
    );
  };
}
