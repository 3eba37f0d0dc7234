import { PgCommandStore } from '../../device-registry/pg/pg-commands.ts';
import { SqliteCommandStore } from '../../device-registry/sqlite-commands.ts';
import type { GatewayContext } from '../context.ts';
import type { GatewayModule } from '../gateway.ts';
import { BulkRollouts } from './bulk-rollout.ts';
import { type CommandOptions, CommandService } from './command-service.ts';
import { commandRoutes } from './routes.ts';

/** Every node looks for commands left past their deadline this often (issue 11: none stays `sent`). */
const CLUSTER_SWEEP_MS = 2000;

export interface CommandsModule extends GatewayModule {
  readonly service: CommandService;
  readonly bulk: BulkRollouts;
}

/** Wires the command service into the broker, the registry and the API. */
export function commandsModule(opts: Partial<CommandOptions> = {}): CommandsModule {
  let service: CommandService;
  let bulk: BulkRollouts;
  let ctx: GatewayContext;
  return {
    name: 'commands',
    get service() {
      return service;
    },
    get bulk() {
      return bulk;
    },
    init(c) {
      ctx = c;
      const store = ctx.pg ? new PgCommandStore(ctx.pg) : new SqliteCommandStore(ctx.db);
      service = new CommandService(ctx, store, {
        defaultTtlSeconds: opts.defaultTtlSeconds ?? 3600,
        defaultTimeoutSeconds: opts.defaultTimeoutSeconds ?? 30,
        replyMaxBytes: opts.replyMaxBytes,
        sweepMs: opts.sweepMs ?? (ctx.pg ? CLUSTER_SWEEP_MS : 0),
      });
      bulk = new BulkRollouts(ctx, service);
      ctx.deviceExtras.push((d) => ({ desiredState: service.desiredView(d.id) }));
      // A device can hear commands once it has subscribed to its command topic, not at CONNACK.
      ctx.link.onCommandChannel((deviceId, open) => service.commandChannelReady(deviceId, open));
      ctx.link.onResumedCommandAck((deviceId, commandId) => void service.resumedAck(deviceId, commandId));
      ctx.devices.onChange((d, change) => {
        if (change === 'enabled') void service.dispatch(d.id);
      });
    },
    get routes() {
      return commandRoutes(service, bulk);
    },
    async start() {
      await service.start();
      await bulk.resume();
    },
    stop() {
      bulk.stop();
      service.stop();
    },
    onReply(route) {
      const { device, topic, packet, done } = route;
      // Through the committer's order: the reply's PUBACK must not overtake earlier readings'.
      ctx.ingest.inOrder(packet.qos > 0, (err) => {
        // The PUBACK goes once the reply is recorded (reply() never throws).
        if (err || !topic.commandId) done(err);
        else void service.reply(device.id, topic.commandId, packet.payload as Buffer).finally(() => done());
      });
    },
    onState(device, state) {
      service.reportedState(device, state);
    },
    onPresence(device, online) {
      if (online && ctx.adapters.some((a) => a.holds(device.id))) void service.dispatch(device.id);
    },
  };
}
