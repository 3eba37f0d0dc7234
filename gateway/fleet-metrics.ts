import { Gauge, type Registry } from 'prom-client';
import type { DeviceStore } from '../device-registry/devices.ts';
import { FAMILIES } from '../firmware-specs/families.ts';

/**
 * Devices online by family, computed from the registry's cache when scraped (nothing is counted
 * on the connection path). A device counts when it is enabled and connected (or polled).
 */
export function registerFleetMetrics(registry: Registry, devices: DeviceStore): void {
  new Gauge({
    name: 'citygate_devices_online',
    help: 'Enabled devices online now, by family',
    labelNames: ['family'],
    registers: [registry],
    collect(this: Gauge) {
      const online = new Map<string, number>(FAMILIES.map((f) => [f, 0]));
      for (const d of devices.values())
        if (d.enabled && d.online) online.set(d.family, (online.get(d.family) ?? 0) + 1);
      for (const [family, n] of online) this.set({ family }, n);
    },
  });
}
