import { join } from 'node:path';
import type { Device } from '../../device-registry/devices.ts';
import type { Config } from '../config.ts';
import type { GatewayContext } from '../context.ts';
import { privateDbFile } from '../data-dir.ts';
import type { GatewayModule } from '../gateway.ts';
import type { Accepted } from '../ingest/normalizer.ts';
import { noAlarms, type OpenAlarmCounts } from './district-summary.ts';
import type { HistorySource } from './history-source.ts';
import { InfluxQlHistory } from './influxql-history.ts';
import { RollupHistory } from './rollup-history.ts';
import { SqliteRollupStore } from './rollup-store.ts';
import { historyRoutes } from './routes.ts';

export interface HistoryModule extends GatewayModule {
  /** Set after init. */
  readonly source: HistorySource;
  /**
   * The alarm service's open-alarm counts per district, for the district summary and list;
   * until one is given they are zeros.
   */
  useOpenAlarms(provider: OpenAlarmCounts): void;
}

/**
 * History and the district summary. With INFLUX_URL the history comes from InfluxDB (InfluxQL);
 * without it from the embedded rollup store (`<data>/rollup.db`), fed with every committed reading.
 */
export function historyModule(config: Config): HistoryModule {
  let source: HistorySource;
  let rollup: RollupHistory | null = null;
  let openAlarms: OpenAlarmCounts = noAlarms;
  return {
    name: 'history',
    get source() {
      return source;
    },
    useOpenAlarms(provider) {
      openAlarms = provider;
    },
    init(ctx: GatewayContext) {
      if (config.INFLUX_URL) {
        source = new InfluxQlHistory({
          url: config.INFLUX_URL,
          db: config.INFLUX_DB ?? config.INFLUX_BUCKET,
          rp: config.INFLUX_RP,
          token: config.INFLUX_TOKEN,
          username: config.INFLUX_USERNAME,
          password: config.INFLUX_PASSWORD,
        });
        return;
      }
      const log = ctx.log.child({ module: 'history' });
      rollup = new RollupHistory({
        store: new SqliteRollupStore(privateDbFile(join(config.CITYGATE_DATA_DIR, 'rollup.db'), log)),
        clock: ctx.clock,
        log,
        retentionMs: config.HISTORY_RETENTION_HOURS * 3600_000,
      });
      source = rollup;
    },
    get routes() {
      return historyRoutes(
        () => source,
        (district) => openAlarms(district),
      );
    },
    start() {
      rollup?.start();
    },
    async stop() {
      await rollup?.stop();
    },
    onReadings(device: Device, readings: readonly Accepted[]) {
      if (rollup) for (const r of readings) rollup.record(device.id, r.fields, r.ts);
    },
  };
}
