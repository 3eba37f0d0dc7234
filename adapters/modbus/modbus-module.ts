import { Counter } from 'prom-client';
import { type Leader, pgLeader } from '../../gateway/cluster/leader.ts';
import type { GatewayContext } from '../../gateway/context.ts';
import type { GatewayModule } from '../../gateway/gateway.ts';
import type { AdapterContext } from '../adapter.ts';
import { ModbusAdapter, type ModbusAdapterOptions, type ModbusAdapterStats } from './modbus-adapter.ts';

export interface ModbusModule extends GatewayModule {
  /** The adapter, once init() ran (tests, metrics). */
  readonly adapter: ModbusAdapter;
}

/**
 * Plugs the Modbus adapter into the gateway: registers it among ctx.adapters (so the command
 * service sends Modbus devices' commands through it) and follows the registry, so a device
 * registered or enabled at run time is polled at once and a disabled one is left alone.
 *
 * In a cluster one node polls (the leader of "modbus", a PostgreSQL advisory lock): every node
 * polling every unit stored each reading once per node and wrote each unit's presence from all
 * of them. The others accept its devices' commands, which the polling node sends.
 */
export function modbusModule(opts: ModbusAdapterOptions = {}): ModbusModule {
  let adapter: ModbusAdapter | undefined;
  let adapterCtx: AdapterContext | undefined;
  let leader: Leader | undefined;
  return {
    name: 'modbus',
    get adapter() {
      if (!adapter) throw new Error('modbusModule: adapter is built in init()');
      return adapter;
    },
    init(ctx: GatewayContext) {
      const built = new ModbusAdapter(opts);
      adapter = built;
      adapterCtx = {
        devices: ctx.devices,
        specs: ctx.specs,
        ingest: ctx.ingest,
        clock: ctx.clock,
        log: ctx.log.child({ module: 'modbus' }),
        presence: (device, online) => ctx.presence(device, online),
      };
      ctx.adapters.push(built);
      exportStats(ctx, built);
      ctx.devices.onChange((device, change) => {
        if (!built.serves(device)) return;
        if (change === 'disabled') built.untrack(device.id);
        else built.track(device);
      });
      if (ctx.pg)
        leader = pgLeader(ctx.pg, {
          name: 'modbus',
          log: adapterCtx.log,
          onGain: () => built.start(adapterCtx!),
          onLose: () => built.stop(),
        });
    },
    async start() {
      if (leader) await leader.start();
      else await adapter?.start(adapterCtx!);
    },
    async stop() {
      await leader?.stop();
      await adapter?.stop();
    },
  };
}

/** The adapter's counters on GET /metrics, as citygate_modbus_events_total{kind}. */
function exportStats(ctx: GatewayContext, adapter: ModbusAdapter): void {
  const seen: Partial<ModbusAdapterStats> = {};
  new Counter({
    name: 'citygate_modbus_events_total',
    help: 'Modbus polls, failed polls, exception answers, timeouts and acknowledged writes',
    labelNames: ['kind'],
    registers: [ctx.metrics.registry],
    collect(this: Counter) {
      for (const [kind, value] of Object.entries(adapter.stats()) as Array<
        [keyof ModbusAdapterStats, number]
      >) {
        this.inc({ kind }, value - (seen[kind] ?? 0));
        seen[kind] = value;
      }
    },
  });
}
