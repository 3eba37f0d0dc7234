import { createServer } from 'node:net';
import { Aedes } from 'aedes';
import type { FromServer, ToServer } from './server-protocol.ts';

/**
 * A bare Aedes broker, defaults and no hooks (no authentication, ACL, validation or storage):
 * the baseline the gateway's ingest is compared with. A child process of the bench.
 */
const send = (msg: FromServer) => process.send?.(msg);

const broker = await Aedes.createBroker();
const server = createServer(broker.handle);
server.listen(Number(process.env.MQTT_PORT ?? 0), '127.0.0.1', () => {
  send({ type: 'ready', mqttPort: (server.address() as { port: number }).port });
});
server.on('error', (err) => {
  send({ type: 'error', message: err.message });
  process.exit(1);
});

const stop = () => {
  server.close();
  broker.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 3000).unref();
};
process.on('message', (msg: ToServer) => msg.type === 'stop' && stop());
process.on('disconnect', stop);
process.on('SIGTERM', stop);
