import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Adapter, AdapterCommand, AdapterContext } from '../adapters/adapter.ts';
import type { Device } from '../device-registry/devices.ts';

/**
 * What the shared contract needs from one adapter under test (docs/design.md: every adapter
 * implements one Adapter interface). The adapter runs inside a real gateway, registered and
 * started by its module, so registrations go through the registry as in production.
 */
export interface AdapterHarness {
  adapter: Adapter;
  /** What the gateway gave the adapter, to start it again after stop(). */
  context: AdapterContext;
  /** Registers (through the API) a device this adapter speaks to. */
  registerServed(): Promise<Device>;
  /** Registers a device of another protocol (e.g. an MQTT streetlight). */
  registerForeign(): Promise<Device>;
  /** Disables a device through the API. */
  disable(id: string): Promise<void>;
  close(): Promise<void>;
}

async function eventually(check: () => boolean, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  return check();
}

const command = (name: string, params: Record<string, unknown> = {}): AdapterCommand => ({
  id: `contract-${name}-${Date.now()}`,
  name,
  params,
});

/** The behaviour every Adapter must show; call once per adapter with its harness. */
export function adapterContract(name: string, makeHarness: () => Promise<AdapterHarness>): void {
  describe(`Adapter contract: ${name}`, () => {
    let h: AdapterHarness;
    let served: Device;
    let foreign: Device;
    beforeAll(async () => {
      h = await makeHarness();
      served = await h.registerServed();
      foreign = await h.registerForeign();
    });
    afterAll(async () => h?.close());

    it('has a name', () => {
      expect(h.adapter.name).toMatch(/^[a-z][a-z0-9-]*$/);
    });

    it("serves its own devices and not another protocol's", () => {
      expect(h.adapter.serves(served)).toBe(true);
      expect(h.adapter.serves(foreign)).toBe(false);
    });

    it('lists a device registered at run time, and only devices it serves', async () => {
      expect(await eventually(() => h.adapter.servedDevices().includes(served.id))).toBe(true);
      expect(h.adapter.servedDevices()).not.toContain(foreign.id);
    });

    it('fails an unknown command with a reason, without calling onDelivered', async () => {
      let delivered = 0;
      const result = await h.adapter.execute(served, command('noSuchCommand'), () => delivered++);
      expect(result.ok).toBe(false);
      expect(result.ok === false && result.error).toMatch(/noSuchCommand/);
      expect(delivered).toBe(0);
    });

    it('fails a command whose params its schema rejects', async () => {
      const spec = h.context.specs.get(served.model)!;
      const [cmdName, cmd] = Object.entries(spec.commands).find(([, c]) => c.badExample !== undefined)!;
      let delivered = 0;
      const result = await h.adapter.execute(
        served,
        command(cmdName, cmd.badExample as Record<string, unknown>),
        () => delivered++,
      );
      expect(result).toMatchObject({ ok: false, error: expect.any(String) });
      expect(delivered).toBe(0);
    });

    it('fails a command for a device it does not serve', async () => {
      const result = await h.adapter.execute(foreign, command('setDimming', { level: 10 }), () => {});
      expect(result).toMatchObject({ ok: false, error: expect.any(String) });
    });

    it('start and stop are idempotent, and a restart serves the registered devices again', async () => {
      await h.adapter.start(h.context); // already started by its module
      const ids = h.adapter.servedDevices();
      expect(new Set(ids).size).toBe(ids.length);
      expect(h.adapter.holds(served.id)).toBe(true);
      expect(h.adapter.holds(foreign.id)).toBe(false);
      await h.adapter.stop();
      await h.adapter.stop();
      expect(h.adapter.servedDevices()).toEqual([]);
      // Stopped (in a cluster: another node polls), it serves the protocol but holds nothing.
      expect(h.adapter.serves(served)).toBe(true);
      expect(h.adapter.holds(served.id)).toBe(false);
      const stopped = await h.adapter.execute(served, command('noSuchCommand'), () => {});
      expect(stopped.ok).toBe(false);
      await h.adapter.start(h.context);
      await h.adapter.start(h.context);
      expect(await eventually(() => h.adapter.servedDevices().includes(served.id))).toBe(true);
      expect(h.adapter.servedDevices().filter((id) => id === served.id)).toHaveLength(1);
      expect(h.adapter.holds(served.id)).toBe(true);
    });

    it('stops serving a disabled device', async () => {
      const other = await h.registerServed();
      expect(await eventually(() => h.adapter.servedDevices().includes(other.id))).toBe(true);
      await h.disable(other.id);
      expect(await eventually(() => !h.adapter.servedDevices().includes(other.id))).toBe(true);
      expect(h.adapter.servedDevices()).toContain(served.id);
    });
  });
}
