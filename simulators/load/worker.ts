import { loadSpecs } from '../../firmware-specs/index.ts';
import { IdleFleet } from './idle-fleet.ts';
import type { FromWorker, ToWorker } from './protocol.ts';
import { Publisher } from './publisher.ts';

/**
 * One load worker (a child process, so several use several cores): it holds a share of the
 * devices and does what the pool tells it over IPC (simulators/load/protocol.ts).
 */
const send = (msg: FromWorker) => process.send?.(msg);
const PROGRESS_MS = 500;

let publisher: Publisher | undefined;
let fleet: IdleFleet | undefined;
let connectsPerSecond = 100;
let progress: NodeJS.Timeout | undefined;

function snapshot(type: 'progress' | 'published') {
  if (!publisher) return;
  send({ type, counters: { ...publisher.counters }, histogram: publisher.histogram.counts });
}

async function handle(msg: ToWorker): Promise<void> {
  switch (msg.type) {
    case 'init': {
      const specs = await loadSpecs();
      connectsPerSecond = msg.connectsPerSecond;
      if (msg.mode === 'publish')
        publisher = new Publisher({
          url: msg.url,
          qos: msg.qos,
          devices: msg.devices,
          specs,
          accelerate: msg.accelerate,
          anonymous: msg.anonymous,
        });
      else fleet = new IdleFleet({ url: msg.url, devices: msg.devices, specs });
      send({ type: 'ready' });
      return;
    }
    case 'connect': {
      const count = msg.count ?? Number.MAX_SAFE_INTEGER;
      if (publisher) {
        await publisher.connect(count, connectsPerSecond);
        const c = publisher.counters;
        send({
          type: 'connected',
          connected: c.connected,
          failed: c.connectFailed,
          errors: publisher.errors,
        });
      } else if (fleet) {
        await fleet.connect(count, connectsPerSecond);
        send({ type: 'connected', connected: fleet.connected, failed: fleet.failed, errors: fleet.errors });
      }
      return;
    }
    case 'publish': {
      if (!publisher) throw new Error('publish: this worker is not a publisher');
      progress = setInterval(() => snapshot('progress'), PROGRESS_MS);
      await publisher.run(msg);
      clearInterval(progress);
      snapshot('published');
      return;
    }
    case 'timings':
      send({ type: 'timings', timings: fleet?.timingsSince(msg.since) ?? [] });
      return;
    case 'stop':
      clearInterval(progress);
      await publisher?.stop();
      await fleet?.stop();
      send({ type: 'stopped' });
      process.disconnect?.();
      setTimeout(() => process.exit(0), 100).unref();
      return;
  }
}

process.on('message', (msg: ToWorker) => {
  handle(msg).catch((err: Error) => send({ type: 'error', message: err.stack ?? err.message }));
});
// The pool went away (Ctrl-C, a crash): do not linger with thousands of sockets open.
process.on('disconnect', () => setTimeout(() => process.exit(0), 3000).unref());
