import { SqliteCampaignStore } from '../../device-registry/campaigns.ts';
import { SqliteFirmwareArtifactStore } from '../../device-registry/firmware-artifacts.ts';
import type { RouteModule } from '../api/app.ts';
import type { CommandService } from '../commands/command-service.ts';
import type { Config } from '../config.ts';
import type { GatewayContext } from '../context.ts';
import { ArtifactService } from '../firmware/artifact-service.ts';
import { firmwareRoutes } from '../firmware/firmware-routes.ts';
import type { GatewayModule } from '../gateway.ts';
import { CampaignEngine } from './campaign-engine.ts';
import { campaignRoutes } from './campaign-routes.ts';

export interface CampaignsModule extends GatewayModule {
  readonly engine: CampaignEngine;
  readonly artifacts: ArtifactService;
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
    init(ctx: GatewayContext) {
      artifacts = new ArtifactService({
        store: new SqliteFirmwareArtifactStore(ctx.db),
        dataDir: opts.config.CITYGATE_DATA_DIR,
        maxBytes: opts.config.FIRMWARE_MAX_BYTES,
        specs: ctx.specs,
        audit: ctx.audit,
        clock: ctx.clock,
      });
      engine = new CampaignEngine({
        ctx,
        store: new SqliteCampaignStore(ctx.db),
        artifacts,
        commands: opts.commands,
        downloadUrl: (id, token) => `${baseUrl()}/api/firmware/${id}/download?token=${token}`,
      });
      artifacts.inUseBy = (id) => engine.inUseBy(id);
      // Subscribed before the command service recovers, so outcomes settled at start are heard.
      ctx.events.subscribe((e) => {
        engine.onEvent(e).catch((err) => ctx.log.error({ err }, 'campaign command event not applied'));
      });
      engine.load();
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
    start() {
      engine.start();
    },
    stop() {
      engine.stop();
    },
    onState(device, state) {
      engine.onState(device, state);
    },
  };
}
