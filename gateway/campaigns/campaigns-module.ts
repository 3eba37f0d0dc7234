import { SqliteCampaignStore } from '../../device-registry/campaigns.ts';
import { SqliteFirmwareArtifactStore } from '../../device-registry/firmware-artifacts.ts';
import { PgCampaignStore } from '../../device-registry/pg/pg-campaigns.ts';
import {
  PgFirmwareArtifactStore,
  PgFirmwareImageStore,
} from '../../device-registry/pg/pg-firmware-artifacts.ts';
import type { RouteModule } from '../api/app.ts';
import { type Leadership, pgLeader } from '../cluster/leader.ts';
import type { CommandService } from '../commands/command-service.ts';
import type { Config } from '../config.ts';
import type { GatewayContext } from '../context.ts';
import { ArtifactService } from '../firmware/artifact-service.ts';
import { FileImageStore } from '../firmware/file-images.ts';
import { firmwareRoutes } from '../firmware/firmware-routes.ts';
import type { GatewayModule } from '../gateway.ts';
import { CampaignEngine } from './campaign-engine.ts';
import { campaignRoutes } from './campaign-routes.ts';

export interface CampaignsModule extends GatewayModule {
  readonly engine: CampaignEngine;
  readonly artifacts: ArtifactService;
  /** In a cluster, whether this node runs the campaigns; undefined in single-process mode. */
  readonly leader: Leadership | undefined;
}

/** Firmware artifacts, their downloads, and campaigns that roll them out (issue 12). */
export function campaignsModule(opts: {
  config: Config;
  commands: () => CommandService;
  /** The HTTP port once listening, and whether it speaks TLS, for download URLs. */
  httpPort: () => number;
  https: boolean;
}): CampaignsModule {
  let engine: CampaignEngine;
  let artifacts: ArtifactService;
  let leader: Leadership | undefined;
  let onState: NonNullable<GatewayModule['onState']> = () => {};
  const baseUrl = () => {
    if (opts.config.FIRMWARE_BASE_URL) return opts.config.FIRMWARE_BASE_URL.replace(/\/+$/, '');
    const host = opts.config.HTTP_HOST;
    const reachable =
      host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
    return `${opts.https ? 'https' : 'http'}://${reachable}:${opts.httpPort()}`;
  };
  return {
    name: 'campaigns',
    get engine() {
      return engine;
    },
    get artifacts() {
      return artifacts;
    },
    get leader() {
      return leader;
    },
    async init(ctx: GatewayContext) {
      // In a cluster any node serves any download: the images live in PostgreSQL with the rest.
      artifacts = new ArtifactService({
        store: ctx.pg ? new PgFirmwareArtifactStore(ctx.pg) : new SqliteFirmwareArtifactStore(ctx.db),
        images: ctx.pg ? new PgFirmwareImageStore(ctx.pg) : new FileImageStore(opts.config.CITYGATE_DATA_DIR),
        maxBytes: opts.config.FIRMWARE_MAX_BYTES,
        specs: ctx.specs,
        audit: ctx.audit,
        clock: ctx.clock,
      });
      engine = new CampaignEngine({
        ctx,
        store: ctx.pg ? new PgCampaignStore(ctx.pg) : new SqliteCampaignStore(ctx.db),
        artifacts,
        commands: opts.commands,
        downloadUrl: (id, token) => `${baseUrl()}/api/firmware/${id}/download?token=${token}`,
        shared: ctx.pg !== undefined,
      });
      artifacts.inUseBy = (id) => engine.inUseBy(id);
      const failed = (what: string) => (err: unknown) => ctx.log.error({ err }, `campaign ${what} failed`);
      // Subscribed before the command service recovers, so outcomes settled at start are heard.
      ctx.events.subscribe((e) => void engine.onEvent(e).catch(failed('event')));
      onState = (device, state) => void engine.onState(device, state).catch(failed('progress'));
      // One node of a cluster runs the campaigns; the others serve the API from the store.
      if (ctx.pg)
        leader = pgLeader(ctx.pg, {
          name: 'campaigns',
          log: ctx.log,
          onGain: async () => {
            await engine.load();
            engine.start();
          },
          onLose: () => engine.stop(),
        });
      else await engine.load();
    },
    get routes() {
      const fw = firmwareRoutes(artifacts, (token, id) => engine.grant(token, id));
      const camp = campaignRoutes(() => engine);
      const routes: RouteModule = (app, ctx) => {
        fw(app, ctx);
        camp(app, ctx);
      };
      return routes;
    },
    async start() {
      if (leader) await leader.start();
      else engine.start();
    },
    async stop() {
      if (leader) await leader.stop();
      else engine.stop();
    },
    onState(device, state) {
      onState(device, state);
    },
  };
}
