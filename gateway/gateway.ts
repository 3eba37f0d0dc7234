import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import type { Aedes } from 'aedes';
import type { FastifyInstance } from 'fastify';
import { openRegistryDb } from '../device-registry/db.ts';
import type { Device } from '../device-registry/devices.ts';
import { type FleetStores, openFleetStores } from '../device-registry/fleet-stores.ts';
import { openPgRegistry, type PgPool } from '../device-registry/pg/pg-db.ts';
import { generateToken, type TokenStore } from '../device-registry/tokens.ts';
import type { ModelSpec } from '../firmware-specs/define-device.ts';
import { loadSpecs } from '../firmware-specs/index.ts';
import { createAbuseGuards } from './abuse-guards.ts';
import { type AlarmsModule, alarmsModule } from './alarms/alarms-module.ts';
import { CounterSanity } from './alarms/counter-sanity.ts';
import { alarmDesiredState } from './alarms/desired-state.ts';
import type { AlarmRules } from './alarms/engine-port.ts';
import { buildApi, type RouteModule } from './api/app.ts';
import { authenticator } from './api/auth.ts';
import { type BrokerHooks, createBroker, type PublishRoute } from './broker.ts';
import { type CampaignsModule, campaignsModule } from './campaigns/campaigns-module.ts';
import { type Clock, systemClock } from './clock.ts';
import { type ClusterBus, singleNodeBus } from './cluster/cluster-bus.ts';
import { clusterModule } from './cluster/cluster-module.ts';
import { createClusterNode } from './cluster/cluster-node.ts';
import { followDeviceChanges } from './cluster/device-changes.ts';
import type { CommandOptions } from './commands/command-service.ts';
import { type CommandsModule, commandsModule } from './commands/commands-module.ts';
import { type Config, isClusterMode, loadConfig } from './config.ts';
import type { GatewayContext } from './context.ts';
import { dashboardModule } from './dashboard/dashboard-module.ts';
import { prepareDataDir, privateDbFile, privateFile } from './data-dir.ts';
import { createDeviceLink } from './device-link.ts';
import { DiskGuard, isDiskFull, probeWrite } from './disk-guard.ts';
import { DiskFullError, PortInUseError } from './errors.ts';
import { createEventBus } from './events/bus.ts';
import { eventsModule } from './events/events-module.ts';
import { registerFleetMetrics } from './fleet-metrics.ts';
import { type HistoryModule, historyModule } from './history/history-module.ts';
import { containEach, containHook, containPublish } from './ingest/contain-publish.ts';
import { GroupCommitter } from './ingest/group-commit.ts';
import { Ingest } from './ingest/ingest.ts';
import { type Accepted, Normalizer } from './ingest/normalizer.ts';
import { type LightingModule, type LightingOptions, lightingModule } from './lighting/lighting-module.ts';
import { backlogCap, listen } from './listen.ts';
import { createLogger, type Logger } from './logger.ts';
import { createMetrics } from './metrics.ts';
import { guardMqttConnections } from './mqtt-packet-guard.ts';
import { Outbox } from './outbox.ts';
import { SinkPump } from './sink-pump.ts';
import { ArchiveSink } from './sinks/archive-sink.ts';
import { InfluxSink } from './sinks/influx-sink.ts';
import { influxV1SinkFrom } from './sinks/influx-v1-sink.ts';
import type { Sink } from './sinks/sink.ts';
import { createMqttsServer, HTTPS_HANDSHAKE_TIMEOUT_MS, loadTlsMaterial } from './tls.ts';

/** A part that plugs into the gateway: commands, protocol adapters. */
export interface GatewayModule {
  readonly name: string;
  routes?: RouteModule;
  /** Called once the context exists, before anything listens. */
  init?(ctx: GatewayContext): void | Promise<void>;
  start?(): void | Promise<void>;
  stop?(): void | Promise<void>;
  onReply?(route: PublishRoute): void;
  onState?(device: Device, state: Record<string, unknown>): void;
  onPresence?(device: Device, online: boolean): void;
  /** Readings committed to the outbox, after the commit. */
  onReadings?(device: Device, readings: readonly Accepted[]): void;
}

export interface GatewayOptions {
  /** Environment-style settings; unset ones take the defaults of docs/design.md. */
  config?: Partial<Record<keyof Config, unknown>>;
  clock?: Clock;
  log?: Logger;
  /** scrypt cost for new device secrets (tests and load runs may lower it). */
  secretCost?: number;
  /** Replaces the sink chosen from the config. */
  sink?: Sink;
  /** Extra modules (protocol adapters); the command service is always there. */
  modules?: GatewayModule[];
  commands?: Partial<CommandOptions>;
  /** Street-lighting programs (issue 13): the scheduler switch, rate and programs' clock. */
  lighting?: Partial<LightingOptions>;
  /** The alarm rule engine and rule book (tests pass a fake; default: gateway/alarms/default-rules.ts). */
  alarmRules?: AlarmRules<any>;
  specs?: ReadonlyMap<string, ModelSpec>;
  /** When false, the admin token generated on first start is not printed. */
  printAdminToken?: boolean;
}

export interface Gateway {
  readonly config: Config;
  /** Set after start(). */
  readonly ctx: GatewayContext;
  readonly api: FastifyInstance;
  readonly mqttPort: number;
  /** The MQTT over TLS port; 0 when TLS is not configured. */
  readonly mqttsPort: number;
  readonly httpPort: number;
  readonly adminToken: string;
  readonly commands: CommandsModule;
  readonly alarms: AlarmsModule;
  readonly history: HistoryModule;
  readonly lighting: LightingModule;
  readonly campaigns: CampaignsModule;
  start(): Promise<void>;
  stop(): Promise<void>;
}

async function resolveAdminToken(
  config: Config,
  tokens: TokenStore,
  clock: Clock,
  log: Logger,
  print: boolean,
): Promise<string> {
  const file = join(config.CITYGATE_DATA_DIR, 'admin-token');
  const bootstrap = async (token: string, from: string, remedy: string) => {
    const retired = await tokens.ensureBootstrap(token, clock.now(), from, remedy);
    if (retired.length) log.warn({ retired }, 'the admin token changed; the previous one is retired');
    return token;
  };
  if (config.CITYGATE_ADMIN_TOKEN)
    return bootstrap(
      config.CITYGATE_ADMIN_TOKEN,
      'CITYGATE_ADMIN_TOKEN',
      'set CITYGATE_ADMIN_TOKEN to a new random value (openssl rand -base64 32) and start again',
    );
  if (existsSync(file))
    return bootstrap(
      readFileSync(privateFile(file, log), 'utf8').trim(),
      file,
      `delete ${file} to have a new one generated, or set CITYGATE_ADMIN_TOKEN, and start again`,
    );
  const token = generateToken();
  // The file first, through a rename: a full disk leaves neither half a file nor a token nobody has.
  try {
    writeFileSync(`${file}.tmp`, `${token}\n`, { mode: 0o600, flush: true });
    renameSync(`${file}.tmp`, file);
  } catch (err) {
    rmSync(`${file}.tmp`, { force: true });
    throw isDiskFull(err) ? new DiskFullError(`writing ${file}`) : err;
  }
  await bootstrap(token, file, `delete ${file} and start again`);
  if (print)
    process.stdout.write(`\nFirst start: admin token (shown once, also saved in ${file}):\n  ${token}\n\n`);
  log.info({ file }, 'generated the first admin token');
  return token;
}

/** Builds an unstarted gateway; start() opens the stores, the broker and the API. */
export function buildGateway(opts: GatewayOptions = {}): Gateway {
  const config = loadConfig(opts.config as NodeJS.ProcessEnv);
  const clock = opts.clock ?? systemClock;
  const log = opts.log ?? createLogger(config.LOG_LEVEL);
  const commands = commandsModule({ replyMaxBytes: config.COMMAND_REPLY_MAX_BYTES, ...opts.commands });
  const alarms = alarmsModule({
    rules: opts.alarmRules,
    desiredState: alarmDesiredState({
      desiredView: (deviceId) => commands.service.desiredView(deviceId),
      recentCommands: (deviceId) => commands.service.recentCommands(deviceId),
    }),
  });
  const events = eventsModule({
    bufferSize: config.EVENTS_BUFFER,
    maxClients: config.EVENTS_MAX_CLIENTS,
    webhookMaxAttempts: config.WEBHOOK_MAX_ATTEMPTS,
  });
  events.provideOpenAlarmCounts(() => alarms.service.openBySeverity());
  const history = historyModule(config);
  history.useOpenAlarms((district) => alarms.service.openBySeverity(district));
  const campaigns = campaignsModule({
    config,
    commands: () => commands.service,
    httpPort: () => httpPort,
    https: Boolean(config.TLS_CERT_FILE && config.TLS_KEY_FILE),
  });
  const lighting = lightingModule(() => commands.service, {
    enabled: config.LIGHTING_SCHEDULER === 'on',
    ratePerSecond: config.LIGHTING_COMMANDS_PER_SECOND,
    ...opts.lighting,
  });
  const dashboard = dashboardModule({ alarms: () => alarms.service, tileUrl: config.MAP_TILE_URL ?? null });
  const modules: GatewayModule[] = [
    commands,
    campaigns,
    alarms,
    events,
    history,
    lighting,
    dashboard,
    // Cluster mode (issue 11): heartbeats, GET /api/cluster, Redis and PostgreSQL health.
    clusterModule({ config, endpoints: () => ({ httpPort, mqttPort }) }),
    ...(opts.modules ?? []),
  ];
  let ctx: GatewayContext;
  let api: FastifyInstance;
  let mqttServer: Server;
  let mqttsServer: Server | undefined;
  let mqttPort = 0;
  let mqttsPort = 0;
  const tls = loadTlsMaterial(config);
  let httpPort = 0;
  let adminToken = '';
  let committer: GroupCommitter;
  let flushTimer: NodeJS.Timeout;
  /** The registry flush in flight, if any, and whether another was asked for meanwhile. */
  let flushing: Promise<void> | null = null;
  let flushAgain = false;
  let registryDb: ReturnType<typeof openRegistryDb>;
  let pgPool: PgPool | undefined;
  let fleet: FleetStores;
  let stopFollowingDevices = () => {};
  let disk: DiskGuard;

  return {
    config,
    get ctx() {
      return ctx;
    },
    get api() {
      return api;
    },
    get mqttPort() {
      return mqttPort;
    },
    get mqttsPort() {
      return mqttsPort;
    },
    get httpPort() {
      return httpPort;
    },
    get adminToken() {
      return adminToken;
    },
    commands,
    alarms,
    history,
    lighting,
    campaigns,

    async start() {
      prepareDataDir(config.CITYGATE_DATA_DIR, log);
      const specs = opts.specs ?? (await loadSpecs());
      // What a start that fails part-way has opened, closed again in reverse order.
      const opened: Array<() => unknown> = [];
      const closeOpened = async () => {
        for (const close of opened.reverse())
          await Promise.resolve()
            .then(close)
            .catch(() => {});
      };
      // Cluster mode (issue 11): the shared registry on PostgreSQL, messages to the other nodes on Redis.
      pgPool = isClusterMode(config) ? await openPgRegistry(config.DATABASE_URL!) : undefined;
      if (pgPool) opened.push(() => pgPool?.end());
      const clusterNode = isClusterMode(config) ? createClusterNode(config, log) : undefined;
      const cluster: ClusterBus = clusterNode?.bus ?? singleNodeBus;
      opened.push(() => cluster.close());
      try {
        registryDb = openRegistryDb(privateDbFile(join(config.CITYGATE_DATA_DIR, 'registry.db'), log));
        opened.push(() => registryDb.close());
        // Devices, tokens and audit on PostgreSQL in cluster mode (issue 11), else on SQLite.
        fleet = await openFleetStores({
          db: registryDb,
          pg: pgPool,
          specs,
          clock,
          scryptQueue: config.AUTH_SCRYPT_QUEUE,
          nodeId: config.NODE_ID ?? cluster.nodeId,
          announce: (id) => cluster.publish('device.changed', { id }),
          onAuditError: (err) => log.error({ err }, 'audit entries not written; retried in a second'),
        });
        opened.push(() => fleet.close());
        opened.push(() => stopFollowingDevices());
        await fleet.devices.resetPresence();
        if (pgPool)
          stopFollowingDevices = followDeviceChanges(fleet.devices, cluster, {
            log: log.child({ module: 'cluster' }),
          });
        adminToken = await resolveAdminToken(config, fleet.tokens, clock, log, opts.printAdminToken ?? true);
      } catch (err) {
        await closeOpened();
        throw err;
      }
      const { devices, tokens, audit } = fleet;
      // A model file removed or renamed since its devices registered: their readings are quarantined.
      for (const [model, count] of devices.missingModels())
        log.warn({ model, devices: count }, 'registered devices use a model that is not loaded');
      const metrics = createMetrics();
      registerFleetMetrics(metrics.registry, devices);
      const outbox = new Outbox(privateDbFile(join(config.CITYGATE_DATA_DIR, 'outbox.db'), log), {
        quarantine: {
          maxRawBytes: config.QUARANTINE_MAX_RAW_BYTES,
          maxPerDevice: config.QUARANTINE_MAX_PER_DEVICE,
          // Within the disk bound, or a full quarantine would hold back every QoS 1 reading.
          maxBytes: Math.min(config.QUARANTINE_MAX_BYTES, Math.floor(config.OUTBOX_MAX_BYTES / 4)),
        },
        onEvict: (n, store) => metrics.quarantineEvicted.inc({ store }, n),
      });
      opened.push(() => outbox.close());
      disk = new DiskGuard({ clock, log: log.child({ module: 'disk' }), counter: metrics.diskFull });
      const sink: Sink =
        opts.sink ??
        influxV1SinkFrom(config) ??
        (config.INFLUX_URL
          ? new InfluxSink({
              url: config.INFLUX_URL,
              token: config.INFLUX_TOKEN,
              org: config.INFLUX_ORG,
              bucket: config.INFLUX_BUCKET,
            })
          : new ArchiveSink(join(config.CITYGATE_DATA_DIR, 'archive'), () => clock.now()));
      const pump = new SinkPump(outbox, sink, {
        clock,
        log: log.child({ module: 'sink' }),
        batchLines: config.SINK_BATCH_LINES,
        onWritten: (n) => {
          metrics.written.inc(n);
          disk.ok('archive');
          committer.notifySpace();
        },
        onFailed: (err, where) => {
          metrics.sinkFailures.inc();
          disk.fail(where === 'sink' ? 'archive' : 'outbox', err);
        },
      });
      committer = new GroupCommitter(outbox, {
        clock,
        maxBytes: config.OUTBOX_MAX_BYTES,
        windowMs: config.GROUP_COMMIT_MS,
        log: log.child({ module: 'ingest' }),
        onCommit: ({ committed, dropped }) => {
          if (dropped) metrics.dropped.inc(dropped);
          if (committed) pump.poke();
        },
        disk,
      });
      const flushRegistry = async () => {
        const flushed = await devices.flush().catch((err) => {
          if (disk.fail('registry', err)) return -1;
          throw err;
        });
        if (flushed >= 0)
          disk.run('registry', () => {
            if (flushed === 0 && disk.faulted('registry')) probeWrite(registryDb);
          });
      };
      // One flush at a time (two in flight could land out of order); asked again meanwhile, it runs once more.
      const flushSoon = () => {
        if (flushing) {
          flushAgain = true;
          return;
        }
        flushing = (async () => {
          do {
            flushAgain = false;
            await flushRegistry();
          } while (flushAgain);
        })()
          .catch((err) => log.error({ err }, 'registry flush failed; retried in a second'))
          .finally(() => {
            flushing = null;
          });
      };
      disk.onRetry('registry', flushSoon);
      disk.onRetry('outbox', () => committer.retry());
      disk.onRetry('archive', () => pump.poke());
      const hookLog = log.child({ module: 'ingest' });
      const modulePresence = containEach(
        'presence',
        modules.map((m) => ({ name: m.name, hook: m.onPresence?.bind(m) })),
        { log: hookLog, metrics },
      );
      const ingest = new Ingest({
        devices,
        normalizer: new Normalizer({
          maxAgeMs: config.MAX_READING_AGE_HOURS * 3600_000,
          maxDepth: config.PAYLOAD_MAX_DEPTH,
          maxReadings: config.MAX_READINGS_PER_PAYLOAD,
          counters: new CounterSanity(),
        }),
        committer,
        metrics,
        clock,
        maxRawBytes: config.QUARANTINE_MAX_RAW_BYTES,
        onReadings: containEach(
          'readings',
          modules.map((m) => ({ name: m.name, hook: m.onReadings?.bind(m) })),
          { log: hookLog, metrics },
        ),
      });
      const bus = createEventBus((err, event) =>
        log.error({ err, event: event.type }, 'event listener failed'),
      );
      // One presence path for every protocol: the registry, then every module.
      const presence = (device: Device, online: boolean) => {
        devices.markPresence(device.id, online, clock.now());
        // Other nodes read presence from the shared registry: written now, not at the next tick.
        if (pgPool) flushSoon();
        const { id: deviceId, family, district } = device;
        bus.publish({ type: 'presence', at: clock.now(), deviceId, family, district, online });
        modulePresence(device, online);
      };
      const hooks: BrokerHooks = {
        onDevicePublish(route) {
          const input = {
            device: route.device,
            topic: route.packet.topic,
            payload: route.packet.payload as Buffer,
            acknowledged: route.packet.qos > 0,
            source: 'mqtt' as const,
          };
          switch (route.topic.kind) {
            case 'telemetry':
              return ingest.telemetry(input, route.done);
            case 'state':
              return ingest.state(input, route.done, (state) => {
                for (const m of modules) m.onState?.(route.device, state);
              });
            default: {
              const handler = modules.find((m) => m.onReply);
              if (handler) return handler.onReply!(route);
              return ingest.inOrder(input.acknowledged, route.done);
            }
          }
        },
      };
      hooks.onDevicePublish = containPublish(hooks.onDevicePublish, { ingest, log: hookLog, metrics });
      const mqttLog = log.child({ module: 'mqtt' });
      const guards = createAbuseGuards({ config, devices, clock, log: mqttLog, metrics });
      const broker: Aedes = await createBroker({
        devices,
        hooks,
        metrics,
        connectTimeoutMs: config.MQTT_CONNECT_TIMEOUT_MS,
        limits: {
          maxSubscriptions: config.MQTT_MAX_SUBSCRIPTIONS,
          maxTopicLength: config.MQTT_MAX_TOPIC_LENGTH,
        },
        guards,
        clustering: clusterNode?.clustering,
      });
      const link = createDeviceLink({
        broker,
        devices,
        metrics,
        log: mqttLog,
        clock,
        onPresence: containHook('presence', presence, { log: hookLog, metrics }),
      });
      // Disabled, decommissioned or rotated without grace through another node: cut off here too.
      devices.onCutOff((id) => link.disconnect(id));
      ctx = {
        clock,
        log,
        metrics,
        specs,
        db: registryDb,
        devices,
        tokens,
        audit,
        outbox,
        ingest,
        pump,
        broker,
        link,
        requireRole: authenticator(tokens),
        sinkName: sink.name,
        deviceExtras: [],
        adapters: [],
        presence,
        disk,
        events: bus,
        pg: pgPool,
        cluster,
      };
      for (const m of modules) await m.init?.(ctx);
      api = await buildApi(
        ctx,
        modules.flatMap((m) => (m.routes ? [m.routes] : [])),
        tls && { cert: tls.cert, key: tls.key, handshakeTimeout: HTTPS_HANDSHAKE_TIMEOUT_MS },
      );
      const guardPackets = guardMqttConnections(broker, {
        limits: {
          maxConnectBytes: config.MQTT_MAX_CONNECT_BYTES,
          maxPacketBytes: config.MQTT_MAX_PACKET_BYTES,
        },
        metrics,
        logs: guards.logs,
      });
      // Banned addresses are dropped on accept, before the packet guard or Aedes do any work.
      const handleMqtt = guards.gate(guardPackets);
      mqttServer = createServer(handleMqtt);
      try {
        mqttPort = await listen(
          mqttServer,
          config.MQTT_PORT,
          config.MQTT_HOST,
          config.MQTT_LISTEN_BACKLOG,
          'MQTT',
        );
        const cap = backlogCap();
        if (cap !== null && cap < config.MQTT_LISTEN_BACKLOG)
          log.warn(
            { MQTT_LISTEN_BACKLOG: config.MQTT_LISTEN_BACKLOG, somaxconn: cap },
            'the kernel caps the MQTT listen backlog at net.core.somaxconn: raise it (sysctl) for reconnect storms',
          );
        if (tls) {
          mqttsServer = createMqttsServer(tls, config.MQTT_CONNECT_TIMEOUT_MS, handleMqtt);
          const host = config.MQTTS_HOST ?? config.MQTT_HOST;
          mqttsPort = await listen(mqttsServer, config.MQTTS_PORT, host, config.MQTT_LISTEN_BACKLOG, 'MQTTS');
        }
        await api.ready();
        await api
          .listen({ port: config.HTTP_PORT, host: config.HTTP_HOST })
          .catch((err: NodeJS.ErrnoException) => {
            mqttServer.close();
            throw err.code === 'EADDRINUSE' ? new PortInUseError('HTTP', config.HTTP_PORT) : err;
          });
        httpPort = (api.server.address() as { port: number }).port;
      } catch (err) {
        mqttServer.close();
        mqttsServer?.close();
        await new Promise<void>((resolve) => broker.close(() => resolve()));
        await closeOpened();
        throw err;
      }
      pump.start();
      // A timer's errors stay in it: a full disk is waited out (disk-guard.ts), anything else logged.
      flushTimer = setInterval(flushSoon, 1000);
      flushTimer.unref();
      for (const m of modules) await m.start?.();
      log.info(
        { mqttPort, mqttsPort, httpPort, sink: sink.name, specs: specs.size, devices: devices.count() },
        'citygate started',
      );
    },

    async stop() {
      if (!ctx) return;
      clearInterval(flushTimer);
      await flushing;
      stopFollowingDevices();
      for (const m of [...modules].reverse()) await m.stop?.();
      // Stop accepting, then close the clients: server.close() waits for open connections.
      const serverClosed = Promise.all(
        [mqttServer, mqttsServer].map((s) => s && new Promise<void>((resolve) => s.close(() => resolve()))),
      );
      await new Promise<void>((resolve) => ctx.broker.close(() => resolve()));
      await serverClosed;
      committer.close();
      await ctx.pump.stop(5000);
      await api.close();
      disk.close();
      await ctx.devices.flush().catch((err) => {
        if (!disk.fail('registry', err)) throw err;
      });
      await fleet.close().catch((err) => log.error({ err }, 'audit entries lost at stop'));
      ctx.outbox.close();
      registryDb.close();
      await ctx.cluster.close();
      await pgPool?.end();
      log.info('citygate stopped');
    },
  };
}
