import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPattern, type DevicePattern } from '../simulators/patterns.ts';
import {
  type DashboardPage,
  launchBrowser,
  openDashboard,
  type SimulatedCity,
  startSimulatedCity,
  tokenFor,
} from './helpers/browser.ts';

/** The lamp whose fault the alarm test raises; its pattern reports a fault code while `failing`. */
const LAMP = { id: '', failing: false };

function faultyLamp(id: string): DevicePattern {
  const normal = createPattern('streetlight', { seed: id });
  return {
    family: normal.family,
    read: (at) => ({ ...normal.read(at), ...(LAMP.failing ? { fault_code: 7, lamp_on: true } : {}) }),
    reported: () => normal.reported(),
    apply: (desired) => normal.apply(desired),
  };
}

const digits = (s: string | null) => Number((s ?? '').replace(/\D/g, ''));

describe('the dashboard in Chromium, against a gateway with a simulated city', { timeout: 90_000 }, () => {
  let city: SimulatedCity;
  let browser: Browser;
  const pages: DashboardPage[] = [];
  const open = async (token = city.gw.admin, opts?: Parameters<typeof openDashboard>[3]) => {
    const p = await openDashboard(browser, city.gw.httpUrl, token, opts);
    pages.push(p);
    return p;
  };
  beforeAll(async () => {
    [city, browser] = await Promise.all([
      startSimulatedCity({
        perFamily: 30,
        overrides: (plan) => {
          if (plan.family !== 'streetlight' || LAMP.id) return undefined;
          LAMP.id = plan.id;
          return { pattern: faultyLamp(plan.id) };
        },
      }),
      launchBrowser(),
    ]);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await city?.stop();
  });

  it('signs in with a #token= link, takes the token out of the address bar and shows the role', async () => {
    const { page, errors } = await open();
    await expect.poll(() => page.locator('[data-role]').getAttribute('data-role')).toBe('admin');
    expect(page.url()).not.toContain('token=');
    // Remembered for the session: a reload stays signed in.
    await page.reload();
    await expect.poll(() => page.locator('[data-role]').getAttribute('data-role')).toBe('admin');
    expect(errors).toEqual([]);
  });

  it('a wrong token is refused with the API’s message, and the sign-in form stays', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${city.gw.httpUrl}/`);
    await page.fill('#token', 'not-a-real-token');
    await page.click('button[type=submit]');
    await expect.poll(() => page.locator('[role=alert]').textContent()).toMatch(/token/i);
    await context.close();
  });

  it('the overview counts the devices the API has, and the map places a marker for each', async () => {
    const { page, errors, screenshot } = await open();
    const total = (await city.gw.api('GET', '/api/devices?limit=1')).body.total;
    expect(total).toBe(120);
    await expect.poll(async () => digits(await page.getByTestId('device-count').textContent())).toBe(total);
    const map = page.getByTestId('city-map');
    await expect.poll(async () => Number(await map.getAttribute('data-devices'))).toBe(total);
    // Zoomed out, devices are clustered; online ones show as online once their stream says so.
    expect(Number(await map.getAttribute('data-clusters'))).toBeGreaterThan(0);
    await expect
      .poll(async () => digits(await page.locator('[data-family=streetlight] .st-online').textContent()))
      .toBe(30);
    expect(await page.locator('[data-testid=district-list] tbody tr').count()).toBe(30);
    await expect
      .poll(async () => digits(await page.getByTestId('readings-per-second').textContent()), {
        timeout: 15_000, // the devices report every 5 s
      })
      .toBeGreaterThan(0);
    await screenshot('overview');
    expect(errors).toEqual([]);
  });

  it('clicking a district filters the counts and the map to it', async () => {
    const { page, errors } = await open();
    const inDistrict = (
      await city.gw.api('GET', `/api/devices?district=${encodeURIComponent('Hoàn Kiếm')}&limit=1`)
    ).body.total;
    await page.locator('[data-district="Hoàn Kiếm"] button').click();
    await expect
      .poll(async () => digits(await page.getByTestId('device-count').textContent()))
      .toBe(inDistrict);
    await expect
      .poll(async () => Number(await page.getByTestId('city-map').getAttribute('data-devices')))
      .toBe(inDistrict);
    await expect.poll(() => page.getByTestId('district-filter').textContent()).toContain('Hoàn Kiếm');
    // The keyboard zooms the map in until the clusters come apart.
    await page.getByTestId('city-map').focus();
    for (let i = 0; i < 6; i++) await page.keyboard.press('+');
    await expect
      .poll(async () => Number(await page.getByTestId('city-map').getAttribute('data-zoom')))
      .toBeGreaterThan(15);
    await page.getByTestId('district-filter').getByRole('button').click();
    await expect.poll(async () => digits(await page.getByTestId('device-count').textContent())).toBe(120);
    expect(errors).toEqual([]);
  });

  it('an alarm from a simulated lamp fault appears without a reload and is acknowledged from the page', async () => {
    const operator = await tokenFor(city.gw, 'operator');
    const { page, errors, go, screenshot } = await open(operator);
    await go('/alarms');
    // The fault raises at once and as critical for this lamp (the default waits a minute, as major).
    const put = await city.gw.api('PUT', `/api/alarm-rules/overrides/device/${LAMP.id}/lamp_fault`, {
      onDelaySeconds: 0,
      severity: 'critical',
    });
    expect(put.status).toBe(201);
    LAMP.failing = true;
    city.fleet.devices.get(LAMP.id)!.publishTelemetry();
    const row = page.locator(`tr[data-device="${LAMP.id}"]`);
    await row.waitFor();
    expect(await row.getAttribute('data-state')).toBe('active_unacknowledged');
    expect(await row.locator('[data-severity=critical]').count()).toBe(1);
    await page.getByTestId('critical-cue').waitFor();
    expect(await page.getByTestId('critical-cue').textContent()).toContain(LAMP.id);
    await screenshot('alarms');
    await row.locator('[data-action=ack]').click();
    await expect.poll(() => row.getAttribute('data-state')).toBe('active_acknowledged');
    const alarms = (await city.gw.api('GET', `/api/alarms?device=${LAMP.id}`)).body.alarms;
    expect(alarms).toMatchObject([{ state: 'active_acknowledged', acknowledgedBy: 'browser-operator' }]);

    // Shelve with a reason: hidden from the list, shown again with "show shelved".
    await row.locator('[data-action=shelve]').click();
    await page.fill('input[name=reason]', 'thợ đang sửa đèn');
    await page.getByRole('button', { name: 'Tạm ẩn', exact: true }).last().click();
    await expect.poll(() => row.count()).toBe(0);
    const shelved = (await city.gw.api('GET', `/api/alarms?device=${LAMP.id}`)).body.alarms[0];
    expect(shelved.shelveReason).toBe('thợ đang sửa đèn');
    // A browser whose clock is 8 hours ahead, past the shelf's end, hides it too: shelved is
    // the gateway's word (it ends the shelf and says so), not the browser clock's.
    const skewed = await open(operator, { clockAheadMs: 8 * 3600_000 });
    await skewed.go('/alarms');
    await expect
      .poll(() => skewed.page.evaluate(() => Date.now()))
      .toBeGreaterThan(Date.parse(shelved.shelvedUntil));
    await skewed.page.getByTestId('alarm-count').waitFor();
    expect(await skewed.page.locator(`tr[data-device="${LAMP.id}"]`).count()).toBe(0);
    LAMP.failing = false;
    expect(errors).toEqual([]);
  });

  it('a viewer sees no command or acknowledge controls', async () => {
    const viewer = await tokenFor(city.gw, 'viewer');
    const { page, errors, go } = await open(viewer);
    await expect.poll(() => page.locator('[data-role]').getAttribute('data-role')).toBe('viewer');
    expect(await page.locator('nav a[href="#/bulk"]').count()).toBe(0);
    await go('/alarms');
    await page.locator('[data-testid=alarm-count]').waitFor();
    await page.locator('input[type=checkbox]').last().check();
    expect(await page.locator('[data-action]').count()).toBe(0);
    expect(await page.locator('th', { hasText: 'Thao tác' }).count()).toBe(0);
    expect(errors).toEqual([]);
  });

  it('the quarantine shows a rejected reading with its reason and raw payload', async () => {
    // A sensor with a loose RS-485 wire, on its own MQTT connection (as the demo does).
    const { id, secret } = await city.gw.register({
      id: 'aq-hoankiem-wire',
      model: 'airviet-aq5',
      firmware: '1.0',
      district: 'Hoàn Kiếm',
      ward: 'Hàng Bạc',
    });
    const sensor = await city.gw.connect(id, secret);
    await sensor.publishAsync(
      `devices/${id}/telemetry`,
      JSON.stringify({ pm25: 'garbled by a loose RS-485 wire' }),
      {
        qos: 1,
      },
    );
    await sensor.endAsync();
    await expect
      .poll(async () => (await city.gw.api('GET', `/api/quarantine?deviceId=${id}`)).body.total)
      .toBe(1);
    const { page, errors, go, screenshot } = await open();
    await go('/quarantine');
    const entry = page.locator('[data-testid=quarantine-list] tr', { hasText: id });
    await entry.waitFor();
    expect(await entry.textContent()).toMatch(/pm25|pm2_5/);
    await entry.locator('summary').click();
    expect(await entry.locator('pre.raw').textContent()).toContain('garbled by a loose RS-485 wire');
    await screenshot('quarantine');
    await page.getByRole('tab').last().click();
    await page.getByTestId('dead-letter-total').waitFor();
    expect(errors).toEqual([]);
  });

  it('shows English when switched, and no view logged a console error', async () => {
    const { page, errors, go } = await open();
    await page.locator('.lang select').first().selectOption('en');
    await expect.poll(() => page.locator('nav').textContent()).toContain('Overview');
    await go('/alarms');
    await go('/quarantine');
    await go('/');
    await page.locator('.lang select').first().selectOption('vi');
    for (const p of pages) expect(p.errors).toEqual([]);
    expect(errors).toEqual([]);
  });
});
