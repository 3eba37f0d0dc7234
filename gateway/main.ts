import { modbusModule } from '../adapters/modbus/modbus-module.ts';
import { loadConfig } from './config.ts';
import { exitOnUnexpectedError } from './fatal-exit.ts';
import { buildGateway } from './gateway.ts';
import { createLogger } from './logger.ts';

// The process: read the config, start, stop cleanly on SIGINT/SIGTERM, exit 70 on a fault.
try {
  const config = loadConfig();
  const log = createLogger(config.LOG_LEVEL);
  const gateway = buildGateway({ config: process.env, log, modules: [modbusModule()] });
  // 3 s: the registry flush and closing the listeners take milliseconds; the outbox drain that
  // a SIGTERM waits for (up to 5 s) is not needed, what is in the outbox is sent after the restart.
  exitOnUnexpectedError({
    log,
    stop: () => gateway.stop(),
    graceMs: 3000,
    // Outside the outbox and the archive, the gateway writes to the registry.
    waitOut: (err) => gateway.ctx?.disk.fail('registry', err) ?? false,
  });
  await gateway.start();
  const stop = async (signal: string) => {
    log.info({ signal }, 'stopping');
    await gateway.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
} catch (err) {
  const e = err as Error & { code?: string };
  process.stderr.write(`citygate: ${e.code ? `${e.code}: ` : ''}${e.message}\n`);
  process.exit(1);
}
