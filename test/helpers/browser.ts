import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { loadSpecs } from '../../firmware-specs/index.ts';
import { Fleet, type FleetDeviceOptions } from '../../simulators/fleet.ts';
import { type DevicePlan, placeDevices } from '../../simulators/hanoi.ts';
import { GatewayApi, provisionDevices } from '../../simulators/load/gateway-api.ts';
import { startTestGateway, type TestGateway } from './gateway.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SCREENSHOTS = join(ROOT, 'docs/screenshots');

/** Debian's chromium (`.ci/run` installs it); no browser download. */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
}

export interface DashboardPage {
  page: Page;
  /** Console errors and uncaught exceptions of the page, in order. */
  errors: string[];
  /** Opens a view by its hash path (`/alarms`, `/devices/sl-x`) and waits for it to show. */
  go(path: string): Promise<void>;
  screenshot(name: string): Promise<string>;
}

/**
 * A page signed in through the `#token=` link, collecting console errors. Waits for the shell
 * (the signed-in user's role is shown) and for the city snapshot to load.
 */
export async function openDashboard(
  browser: Browser,
  httpUrl: string,
  token: string,
  opts: {
    lang?: 'vi' | 'en';
    viewport?: { width: number; height: number };
    /** The browser's clock this far ahead of the machine's (a PC whose clock is off). */
    clockAheadMs?: number;
  } = {},
): Promise<DashboardPage> {
  const context = await browser.newContext({ viewport: opts.viewport ?? { width: 1440, height: 900 } });
  if (opts.lang) await context.addInitScript((l) => localStorage.setItem('citygate.lang', l), opts.lang);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  if (opts.clockAheadMs) await page.clock.install({ time: Date.now() + opts.clockAheadMs });
  await page.goto(`${httpUrl}/#token=${encodeURIComponent(token)}`);
  await page.locator('[data-role]').waitFor();
  return {
    page,
    errors,
    async go(path) {
      await page.evaluate((p) => {
        window.location.hash = p;
      }, path);
      await page.locator(`main[data-path="${path.split('?')[0]}"]`).waitFor();
    },
    async screenshot(name) {
      mkdirSync(SCREENSHOTS, { recursive: true });
      const file = join(SCREENSHOTS, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      return file;
    },
  };
}

export interface SimulatedCity {
  gw: TestGateway;
  fleet: Fleet;
  plans: DevicePlan[];
  secrets: Map<string, string>;
  stop(): Promise<void>;
}

/**
 * A real gateway and a small simulated Hanoi over MQTT: `perFamily` devices of each family placed
 * across the 30 districts, registered through the API and connected as SimulatedDevices.
 */
export async function startSimulatedCity(
  opts: {
    perFamily?: number;
    device?: FleetDeviceOptions;
    seed?: string;
    /** Per-device options, e.g. a pattern that fails on cue. */
    overrides?: (plan: DevicePlan) => Partial<FleetDeviceOptions> | undefined;
    /** More gateway settings, e.g. `{ LIGHTING_SCHEDULER: 'on' }`. */
    config?: NonNullable<Parameters<typeof startTestGateway>[0]>['config'];
  } = {},
): Promise<SimulatedCity> {
  const gw = await startTestGateway({
    config: { AUTH_PENDING_PER_ADDRESS: 1_000_000, AUTH_SCRYPT_QUEUE: 1_000_000, ...opts.config },
  });
  const specs = await loadSpecs();
  const n = opts.perFamily ?? 30;
  const plans = placeDevices(
    {
      perFamily: { streetlight: n, electricity_meter: n, water_station: n, air_quality: n },
      seed: opts.seed ?? 'browser',
    },
    specs,
  );
  const provisioned = await provisionDevices(new GatewayApi(gw.httpUrl, gw.admin), plans);
  const secrets = new Map(provisioned.map((p) => [p.id, p.secret]));
  const fleet = new Fleet({
    url: gw.mqttUrl,
    plans,
    specs,
    secrets,
    connectsPerSecond: 500,
    device: { qos: 1, intervalMs: 5000, ...opts.device },
    overrides: opts.overrides,
  });
  await fleet.start();
  return {
    gw,
    fleet,
    plans,
    secrets,
    async stop() {
      await fleet.stop();
      await gw.stop();
    },
  };
}

/** A token of the given role, made by the admin through the API. */
export async function tokenFor(gw: TestGateway, role: 'viewer' | 'operator' | 'admin'): Promise<string> {
  const res = await gw.api('POST', '/api/tokens', { name: `browser-${role}`, role });
  if (res.status !== 201) throw new Error(`token: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.token;
}
