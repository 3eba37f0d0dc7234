import { modbusModule } from '../../adapters/modbus/modbus-module.ts';
import { buildGateway, type GatewayModule } from '../../gateway/gateway.ts';
import { createLogger } from '../../gateway/logger.ts';
import type { FromServer, GatewayProcessOptions, ToServer } from './server-protocol.ts';

/**
 * The full gateway (authentication, ACL, validation, outbox, sink) in its own process, so that
 * its RSS is its own and it does not share an event loop with the load. Options arrive as JSON
 * in CITYGATE_BENCH_GATEWAY.
 */
const send = (msg: FromServer) => process.send?.(msg);
const opts = JSON.parse(process.env.CITYGATE_BENCH_GATEWAY ?? '{}') as GatewayProcessOptions;

// ---- PLUG-IN: gateway modules ----------------------------------------------------------------
// The same gateway as `npm start` (gateway/main.ts): the command service (which the fan-out
// benchmark drives) is part of every gateway, the Modbus adapter is added; further adapters here.
const modules: GatewayModule[] = [modbusModule()];
// ----------------------------------------------------------------------------------------------

const gateway = buildGateway({
  log: createLogger(opts.logLevel ?? 'warn'),
  secretCost: opts.secretCost,
  printAdminToken: false,
  modules,
  config: {
    CITYGATE_DATA_DIR: opts.dataDir,
    MQTT_PORT: opts.mqttPort ?? 0,
    HTTP_PORT: opts.httpPort ?? 0,
    MQTT_HOST: '127.0.0.1',
    HTTP_HOST: '127.0.0.1',
    INFLUX_URL: opts.influxUrl,
    LOG_LEVEL: opts.logLevel ?? 'warn',
    // The load comes from one address, and a bench device publishes far faster than a field
    // device: limits high enough never to bite, so the guards' cost is measured, not their effect.
    DEVICE_RATE_PER_SEC: 1_000_000,
    DEVICE_RATE_BURST: 1_000_000,
    AUTH_PENDING_PER_ADDRESS: 1_000_000,
    AUTH_SCRYPT_QUEUE: 1_000_000,
    ...opts.config,
  },
});

try {
  await gateway.start();
  send({
    type: 'ready',
    mqttPort: gateway.mqttPort,
    httpPort: gateway.httpPort,
    adminToken: gateway.adminToken,
  });
} catch (err) {
  send({ type: 'error', message: (err as Error).message });
  process.exit(1);
}

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  setTimeout(() => process.exit(1), 15_000).unref();
  await gateway.stop().catch(() => {});
  // A normal exit, so that --cpu-prof writes its profile.
  process.exit(0);
};
process.on('message', (msg: ToServer) => msg.type === 'stop' && void stop());
process.on('disconnect', () => void stop());
process.on('SIGTERM', () => void stop());
