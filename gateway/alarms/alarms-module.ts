import { SqliteAlarmStore } from '../../device-registry/alarms.ts';
import type { Device } from '../../device-registry/devices.ts';
import { PgAlarmStore } from '../../device-registry/pg/pg-alarms.ts';
import type { RouteModule } from '../api/app.ts';
import type { GatewayContext } from '../context.ts';
import type { GatewayModule } from '../gateway.ts';
import { registerAlarmMetrics } from './alarm-metrics.ts';
import { alarmRules as defaultAlarmRules } from './alarm-rules.ts';
import { AlarmService } from './alarm-service.ts';
import type { AlarmEnginePort, AlarmRules, RuleInfo } from './engine-port.ts';
import { alarmRoutes } from './routes.ts';
import { RuleOverrides } from './rule-overrides.ts';
import { ruleRoutes } from './rule-routes.ts';

/** How often a cluster node reads again what the other nodes changed. */
const CLUSTER_SWEEP_MS = 1000;

export interface AlarmsOptions<R extends RuleInfo = RuleInfo> {
  /** The rule engine and rule book (tests pass a fake). */
  rules?: AlarmRules<R>;
  /** Desired state of a device (from the command service), for rules such as "relay open nobody commanded". */
  desiredState?(deviceId: string): Record<string, unknown> | null;
}

export interface AlarmsModule extends GatewayModule {
  readonly service: AlarmService;
  readonly engine: AlarmEnginePort;
}

/**
 * Wires alarms into the gateway: accepted readings and presence go to the rule engine (in memory),
 * its signals to the alarm service (only transitions touch the registry), and the alarms and
 * alarm-rule routes into the API.
 */
export function alarmsModule<R extends RuleInfo>(opts: AlarmsOptions<R> = {}): AlarmsModule {
  const rules = (opts.rules ?? defaultAlarmRules) as AlarmRules<R>;
  let ctx: GatewayContext;
  let service: AlarmService;
  let overrides: RuleOverrides<R>;
  let engine: AlarmEnginePort;
  let sweepTimer: unknown = null;
  /**
   * In a cluster (issue 11), what other nodes change is read again periodically: the open-alarm
   * figure, shelving timers (a shelf expires even if the node that set it died) and rule overrides.
   */
  const sweepEvery = (ms: number) => {
    sweepTimer = ctx.clock.setTimeout(() => {
      Promise.all([service.sweep(), overrides.load()])
        .catch((err) => ctx.log.error({ err }, 'alarm sweep failed; the next one in a moment'))
        .finally(() => sweepTimer !== null && sweepEvery(ms));
    }, ms);
  };
  return {
    name: 'alarms',
    get service() {
      return service;
    },
    get engine() {
      return engine;
    },
    async init(c) {
      ctx = c;
      const store = ctx.pg ? new PgAlarmStore(ctx.pg) : new SqliteAlarmStore(ctx.db);
      const metrics = registerAlarmMetrics(ctx.metrics.registry, {
        store,
        clock: ctx.clock,
        chattering: () => engine.stats().chattering,
      });
      service = new AlarmService({
        store,
        devices: ctx.devices,
        clock: ctx.clock,
        log: ctx.log.child({ module: 'alarms' }),
        events: ctx.events,
        cluster: ctx.cluster,
        onTransition: metrics.transition,
      });
      overrides = new RuleOverrides({
        store,
        rules,
        specs: ctx.specs,
        devices: ctx.devices,
        onChange: (deviceId) => engine.invalidate(deviceId),
      });
      engine = rules.createEngine({
        clock: ctx.clock,
        rulesFor: (device) => overrides.rulesFor(device),
        onSignal: (signal) => service.signal(signal),
        desiredState: opts.desiredState,
      });
      await overrides.load();
      // Before anything listens: the engine knows which conditions held when the gateway stopped.
      engine.restore(await service.recover());
    },
    get routes(): RouteModule {
      const alarms = alarmRoutes(service);
      const rulesApi = ruleRoutes(overrides);
      return (app, c) => {
        alarms(app, c);
        rulesApi(app, c);
      };
    },
    start() {
      // Presence was reset at start: devices seen before and not back yet start their offline clock now.
      const now = ctx.clock.now();
      for (const d of ctx.devices.list({ status: 'offline' }))
        if (d.lastSeenAt !== null) engine.presence(d, false, now);
      if (ctx.pg) sweepEvery(CLUSTER_SWEEP_MS);
    },
    async stop() {
      if (sweepTimer !== null) ctx.clock.clearTimeout(sweepTimer);
      sweepTimer = null;
      engine.stop();
      await service.stop();
    },
    onReadings(device: Device, readings) {
      for (const r of readings) engine.reading(device, r.fields, r.ts);
    },
    onPresence(device, online) {
      engine.presence(device, online, ctx.clock.now());
    },
  };
}
