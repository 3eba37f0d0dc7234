import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { RouteModule } from '../api/app.ts';
import type { GatewayContext } from '../context.ts';
import { ClusterRegistryUnavailableError } from './errors.ts';
import type { NodeView } from './nodes.ts';

const nodeView = z.object({
  nodeId: z.string(),
  self: z.boolean(),
  alive: z.boolean(),
  httpUrl: z.string(),
  mqttPort: z.number(),
  connectedDevices: z.number(),
  startedAt: z.string(),
  heartbeatAt: z.string(),
});

export interface ClusterView {
  mode: 'single' | 'cluster';
  /** Every node that wrote a heartbeat (cluster), or this process alone (single). */
  nodes(): Promise<NodeView[]>;
}

/** `GET /api/cluster`: the nodes, their connected devices and last heartbeat (issue 11). */
export function clusterRoutes(view: ClusterView): RouteModule {
  return (app: FastifyInstance, ctx: GatewayContext) => {
    app.withTypeProvider<ZodTypeProvider>().get(
      '/api/cluster',
      {
        preHandler: ctx.requireRole('viewer', 'read the cluster'),
        schema: {
          tags: ['operations'],
          response: {
            200: z.object({
              mode: z.enum(['single', 'cluster']),
              nodeId: z.string(),
              alive: z.number(),
              nodes: z.array(nodeView),
            }),
          },
        },
      },
      async () => {
        const nodes = await view.nodes().catch((err: Error) => {
          throw new ClusterRegistryUnavailableError(err.message);
        });
        const iso = (ms: number) => new Date(ms).toISOString();
        return {
          mode: view.mode,
          nodeId: ctx.cluster.nodeId,
          alive: nodes.filter((n) => n.alive).length,
          nodes: nodes.map((n) => ({ ...n, startedAt: iso(n.startedAt), heartbeatAt: iso(n.heartbeatAt) })),
        };
      },
    );
  };
}
