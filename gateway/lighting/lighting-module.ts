import { FINAL_STATUSES } from '../../device-registry/commands.ts';
import { SqliteLightingStore } from '../../device-registry/lighting.ts';
import { PgLightingStore } from '../../device-registry/pg/pg-lighting.ts';
import { hanoiCalendar, hanoiPrograms } from '../../firmware-specs/lighting/hanoi.ts';
import type { Clock } from '../clock.ts';
import { type Leadership, pgLeader } from '../cluster/leader.ts';
import type { CommandService } from '../commands/command-service.ts';
import type { GatewayContext } from '../context.ts';
import type { GatewayModule } from '../gateway.ts';
import { LampDispatcher } from './lamp-dispatcher.ts';
import { LightingService } from './lighting-service.ts';
import { calendarSchema, programSchema } from './program.ts';
import { lightingRoutes } from './routes.ts';
import { LightingScheduler, reportedLevel } from './scheduler.ts';
import { SunCache } from './sun.ts';

export interface LightingOptions {
  /** LIGHTING_SCHEDULER: run the calendar (send steps). The API and previews work either way. */
  enabled: boolean;
  /** LIGHTING_COMMANDS_PER_SECOND: the bound on setDimming commands the programs send. */
  ratePerSecond: number;
  /** Longest wait between two looks at the clock. */
  tickMs: number;
  /** The programs' clock (the demo's is accelerated); default the gateway's. */
  clock?: Clock;
  /** Lifetime of a queued lighting command; an offline lamp gets its desired level on reconnect anyway. */
  ttlSeconds: number;
}

export interface LightingModule extends GatewayModule {
  readonly service: LightingService;
  readonly scheduler: LightingScheduler;
  readonly dispatcher: LampDispatcher;
  /** In a cluster, whether this node runs the calendar; undefined in single-process mode. */
  readonly leader: Leadership | undefined;
}

/** Street-lighting programs and calendars (issue 13) over the command service. */
export function lightingModule(
  commands: () => CommandService,
  opts: Partial<LightingOptions> = {},
): LightingModule {
  let service: LightingService;
  let scheduler: LightingScheduler;
  let dispatcher: LampDispatcher;
  let leader: Leadership | undefined;
  const enabled = opts.enabled ?? false;
  const run = async () => {
    await scheduler.start();
    await scheduler.reconcile();
  };
  return {
    name: 'lighting',
    get service() {
      return service;
    },
    get scheduler() {
      return scheduler;
    },
    get dispatcher() {
      return dispatcher;
    },
    get leader() {
      return leader;
    },
    async init(ctx: GatewayContext) {
      const log = ctx.log.child({ module: 'lighting' });
      const store = ctx.pg ? new PgLightingStore(ctx.pg) : new SqliteLightingStore(ctx.db);
      // The repository's defaults, validated as any API edit is, on the first start only.
      const programs = hanoiPrograms.map((p) => programSchema.parse(p));
      if (await store.seed(programs, calendarSchema.parse(hanoiCalendar), ctx.clock.now()))
        log.info({ programs: programs.length }, 'loaded the default Hanoi lighting programs and calendar');
      const clock = opts.clock ?? ctx.clock;
      const cmd = commands();
      dispatcher = new LampDispatcher({
        clock: ctx.clock,
        log,
        ratePerSecond: opts.ratePerSecond ?? 1000,
        // Not awaited here: the dispatcher keeps its pace and counts refusals (a promise's too).
        submit: (deviceId, c) =>
          cmd.submit({
            deviceId,
            name: 'setDimming',
            params: { level: c.level },
            ttlSeconds: opts.ttlSeconds ?? 3600,
            actor: c.actor,
          }),
      });
      const desiredLevel = (id: string) => {
        const view = cmd.desiredView(id);
        if (!view) return null;
        if (view.lamp_on === false) return 0;
        return typeof view.dim_percent === 'number' ? view.dim_percent : null;
      };
      scheduler = new LightingScheduler({
        clock,
        log,
        devices: ctx.devices,
        store,
        sun: new SunCache(),
        dispatcher,
        tickMs: opts.tickMs ?? 15_000,
        desiredLevel,
        commandOpen: (id) =>
          cmd.recentCommands(id).some((c) => c.name === 'setDimming' && !FINAL_STATUSES.has(c.status)),
        // Programs, calendar and overrides may be edited on any node of a cluster.
        refreshEachLook: ctx.pg !== undefined,
      });
      await scheduler.reload();
      ctx.devices.onChange((d, change) => {
        if (d.family !== 'streetlight') return;
        if (change === 'disabled') scheduler.lampsChanged();
        else scheduler.lampJoined(d.id);
      });
      service = new LightingService({
        store,
        scheduler,
        devices: ctx.devices,
        clock,
        audit: ctx.audit,
        desiredLevel,
        reportedLevel,
        enabled,
      });
      // One node of a cluster runs the calendar; every node serves the API and overrides.
      if (ctx.pg && enabled)
        leader = pgLeader(ctx.pg, {
          name: 'lighting',
          log,
          onGain: async () => {
            await scheduler.reload();
            await run();
          },
          onLose: () => {
            scheduler.stop();
            dispatcher.stop();
          },
        });
    },
    get routes() {
      return lightingRoutes(() => service);
    },
    async start() {
      if (!enabled) return;
      if (leader) await leader.start();
      else await run();
    },
    async stop() {
      if (leader) await leader.stop();
      scheduler?.stop();
      dispatcher?.stop();
      await scheduler?.flushed();
    },
  };
}
