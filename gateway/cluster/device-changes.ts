import type { DeviceStore } from '../../device-registry/devices.ts';
import type { Logger } from '../logger.ts';
import type { ClusterBus } from './cluster-bus.ts';

/** How often a node looks for device changes whose device.changed message it missed. */
export const DEVICE_POLL_MS = 2000;

/**
 * Keeps this node's device cache in step with the others: a device.changed message re-reads
 * that device at once; a poll every couple of seconds catches a message lost on the way
 * (pub/sub delivers at most once). Returns what stops the poll.
 */
export function followDeviceChanges(
  devices: DeviceStore,
  bus: ClusterBus,
  opts: { log: Logger; intervalMs?: number },
): () => void {
  bus.subscribe('device.changed', ({ id }) => {
    devices
      .reload(id)
      .catch((err) => opts.log.warn({ err, deviceId: id }, 'device re-read failed; the poll retries'));
  });
  let polling = false;
  const timer = setInterval(() => {
    if (polling) return;
    polling = true;
    devices
      .poll()
      .catch((err) => opts.log.warn({ err }, 'device change poll failed'))
      .finally(() => {
        polling = false;
      });
  }, opts.intervalMs ?? DEVICE_POLL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
