import { modbusModule } from '../adapters/modbus/modbus-module.ts';
import { loadConfig } from './config.ts';
import { buildGateway } from './gateway.ts';
import { createLogger } from './logger.ts';

// The process: read the config, start, stop cleanly on SIGINT/SIGTERM.
try {
  const config = loadConfig();
  const log = createLogger(config.LOG_LEVEL);
  const gateway = buildGateway({ config: process.env, log, modules: [modbusModule()] });
  // A stray rejection is logged, not fatal: every reading the devices were told is safe is already
  // in the outbox, but a city should not lose its gateway to one forgotten promise.
  process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection'));
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
