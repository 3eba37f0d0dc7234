import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFirmware } from '../firmware-specs/define-device.ts';
import { SimulatedDevice } from '../simulators/mqtt-device.ts';
import {
  launchBrowser,
  openDashboard,
  SCREENSHOTS,
  type SimulatedCity,
  startSimulatedCity,
  tokenFor,
} from './helpers/browser.ts';

const PER_FAMILY = 20;
const HOUR = 3600_000;

/** Pixels of a canvas that are not transparent: a drawn chart has many. */
const inkOf = (page: Page, selector: string) =>
  page.locator(selector).evaluate((c: HTMLCanvasElement) => {
    const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
    return n;
  });

describe('device page and bulk commands in Chromium, against a gateway with a simulated city', () => {
  let city: SimulatedCity;
  let browser: Browser;
  let operator: string;
  let viewer: string;
  let slowLamp: SimulatedDevice | undefined;
  const api = (path: string) => city.gw.api('GET', path).then((r) => r.body);

  beforeAll(async () => {
    [city, browser] = await Promise.all([
      startSimulatedCity({ perFamily: PER_FAMILY, seed: 'device-bulk' }),
      launchBrowser(),
    ]);
    operator = await tokenFor(city.gw, 'operator');
    viewer = await tokenFor(city.gw, 'viewer');
  }, 120_000);
  afterAll(async () => {
    await slowLamp?.stop();
    await browser?.close();
    await city?.stop();
  });

  /**
   * A day of history for one simulated lamp: the device is stopped, its readings of the last 24
   * hours are published with their times (every 10 minutes, dimming following the hour), and it
   * is started again, answering commands as before.
   */
  async function lampWithHistory() {
    const plan = city.plans.find((p) => p.family === 'streetlight')!;
    const device = city.fleet.get(plan.id)!;
    await expect
      .poll(() => api(`/api/devices/${plan.id}`), { timeout: 15_000 })
      .toHaveProperty('lastReading.dim_percent');
    const last = (await api(`/api/devices/${plan.id}`)).lastReading as Record<string, number | boolean>;
    await device.stop();
    const firmware = findFirmware(city.gw.gateway.ctx.specs.get(plan.model)!, plan.firmware)!;
    const client = await city.gw.connect(plan.id, city.secrets.get(plan.id)!);
    const start = Date.now() - 24 * HOUR + 10 * 60_000;
    for (let ts = start; ts < Date.now() - 60_000; ts += 10 * 60_000) {
      const hour = new Date(ts).getUTCHours();
      const dim = Math.round(50 + 45 * Math.sin((hour / 24) * 2 * Math.PI));
      const raw = firmware.telemetry.encode({ ...last, dim_percent: dim, lamp_power_w: dim * 1.2 });
      await client.publishAsync(`devices/${plan.id}/telemetry`, JSON.stringify({ ...(raw as object), ts }), {
        qos: 1,
      });
    }
    await client.endAsync();
    // Back as a device that answers 1.5 s late: the command's steps can be seen one by one.
    slowLamp = new SimulatedDevice({
      id: plan.id,
      spec: city.gw.gateway.ctx.specs.get(plan.model)!,
      firmware: plan.firmware,
      url: city.gw.mqttUrl,
      secret: city.secrets.get(plan.id)!,
      qos: 1,
      intervalMs: 5000,
      replyDelayMs: 1500,
    });
    await slowLamp.start();
    await expect
      .poll(
        async () =>
          (await api(`/api/devices/${plan.id}/history?from=-24h&step=5m&fields=dim_percent`)).fields
            .dim_percent?.length ?? 0,
        {
          timeout: 15_000,
        },
      )
      .toBeGreaterThan(100);
    return plan;
  }

  it('shows a device with its history chart drawn, sends a dimming command and follows it live to succeeded', async () => {
    const plan = await lampWithHistory();
    const { page, errors, go } = await openDashboard(browser, city.gw.httpUrl, operator);
    await go(`/devices/${encodeURIComponent(plan.id)}`);
    await expect.poll(() => page.getByTestId('device-id').textContent()).toBe(plan.id);
    await expect
      .poll(() => page.locator('[data-view="device"] h2', { hasText: 'Lịch sử lệnh' }).count())
      .toBe(1);

    const chart = page.locator('figure[data-field="dim_percent"]');
    await chart.locator('.chart-box[data-drawn="true"] canvas').waitFor();
    expect(Number(await chart.getAttribute('data-points'))).toBeGreaterThan(100);
    expect(await inkOf(page, 'figure[data-field="dim_percent"] canvas')).toBeGreaterThan(500);
    await expect.poll(() => page.getByTestId('last-reading').textContent()).toMatch(/dim_percent/);

    // The form is generated from the model: a 0–100 % level; sent with the keyboard.
    await page.locator('#cmd-name').selectOption('setDimming');
    const level = page.locator('#cmd-level');
    expect(await level.getAttribute('min')).toBe('0');
    expect(await level.getAttribute('max')).toBe('100');
    await level.fill('37');
    await level.press('Enter');
    const progress = page.getByTestId('command-progress');
    const steps = new Set<string | null>();
    await expect
      .poll(
        async () => {
          const status = await progress.getAttribute('data-status');
          steps.add(status);
          return status;
        },
        { timeout: 15_000, interval: 50 },
      )
      .toBe('succeeded');
    // The reply comes 1.5 s after delivery, and only the events stream tells the page of it.
    expect(steps).toContain('delivered');
    expect(await progress.textContent()).toMatch(/Thành công/);
    const sent = (await api(`/api/devices/${plan.id}/commands?limit=1`)).commands[0];
    expect(sent).toMatchObject({
      name: 'setDimming',
      params: { level: 37 },
      status: 'succeeded',
      requestedBy: 'browser-operator',
    });
    // The history of commands and the desired state follow without a reload.
    await expect
      .poll(() => page.locator(`tr[data-command="${sent.id}"]`).getAttribute('data-status'))
      .toBe('succeeded');
    await expect
      .poll(() => page.locator('[data-testid="device-state"] tr[data-field="dim_percent"]').textContent())
      .toMatch(/37.*37/);

    await page.screenshot({ path: join(SCREENSHOTS, 'device.png'), fullPage: true });
    expect(errors).toEqual([]);
  });

  it('asks for the confirmation step before opening a meter relay, then follows the command to its end', async () => {
    const meter = city.plans.find((p) => p.family === 'electricity_meter' && p.model !== 'sonmetrix-smx630')!;
    const { page, errors, go } = await openDashboard(browser, city.gw.httpUrl, operator, { lang: 'en' });
    await go(`/devices/${encodeURIComponent(meter.id)}`);
    await page.locator('#cmd-name').selectOption('setRelay');
    await page.locator('#cmd-closed').uncheck();
    await page.getByRole('button', { name: 'Send command' }).click();
    const dialog = page.getByRole('alertdialog');
    await dialog.waitFor();
    // The confirm button has the focus; Escape steps back, and the form asks again.
    await page.keyboard.press('Escape');
    expect(await dialog.count()).toBe(0);
    await page.getByRole('button', { name: 'Send command' }).click();
    await dialog.waitFor();
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Confirm and send');
    expect(await dialog.textContent()).toMatch(/explicit confirmation/);
    // Nothing went out before the confirmation.
    expect((await api(`/api/devices/${meter.id}/commands`)).commands).toEqual([]);
    await dialog.getByRole('button', { name: 'Confirm and send' }).click();
    await expect
      .poll(() => page.getByTestId('command-progress').getAttribute('data-status'), { timeout: 15_000 })
      .toBe('succeeded');
    expect((await api(`/api/devices/${meter.id}/commands`)).commands[0]).toMatchObject({
      name: 'setRelay',
      params: { closed: false },
    });
    expect(errors).toEqual([]);
  });

  it('previews a bulk command, runs it to 100 % and shows the counts the API has', async () => {
    const { page, errors, go } = await openDashboard(browser, city.gw.httpUrl, operator);
    await go('/bulk');
    await page.locator('#bulk-family').selectOption('streetlight');
    await page.locator('#bulk-command').selectOption('setDimming');
    await page.locator('#bulk-param-level').fill('60');
    await page.locator('#bulk-rate').fill('10');
    await expect
      .poll(() => page.getByTestId('bulk-preview').getAttribute('data-eligible'))
      .toBe(String(PER_FAMILY));
    expect(await page.getByTestId('bulk-preview').textContent()).toContain(
      `${PER_FAMILY} thiết bị sẽ nhận lệnh`,
    );
    await page.screenshot({ path: join(SCREENSHOTS, 'bulk-preview.png') });
    await page.getByRole('button', { name: 'Bắt đầu' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Xác nhận và bắt đầu' }).click();
    const progress = page.getByTestId('bulk-progress');
    await progress.waitFor();
    const id = await progress.getAttribute('data-bulk');
    expect(page.url()).toContain(`#/bulk?id=${id}`);
    // At 10 a second the roll-out takes 2 s: the bar is seen on its way, then at its end.
    const seen = new Set<string>();
    await expect
      .poll(
        async () => {
          seen.add((await page.getByTestId('bulk-percent').textContent()) ?? '');
          return progress.getAttribute('data-done');
        },
        { timeout: 20_000, interval: 50 },
      )
      .toBe('true');
    expect([...seen].some((p) => p !== '0 %' && p !== '100 %')).toBe(true);
    expect(await page.getByTestId('bulk-percent').textContent()).toBe('100 %');
    const status = await api(`/api/commands/bulk/${id}?devices=false`);
    expect(status).toMatchObject({ total: PER_FAMILY, done: true });
    expect(status.counts.succeeded).toBe(PER_FAMILY);
    for (const [state, n] of Object.entries(status.counts))
      expect(await page.getByTestId(`count-${state}`).textContent()).toBe(String(n));
    await page.screenshot({ path: join(SCREENSHOTS, 'bulk.png'), fullPage: true });
    expect(errors).toEqual([]);
  });

  it('a viewer sees the device but no command controls, and no bulk page', async () => {
    const lamp = city.plans.find((p) => p.family === 'streetlight')!;
    const { page, errors, go } = await openDashboard(browser, city.gw.httpUrl, viewer);
    await go(`/devices/${encodeURIComponent(lamp.id)}`);
    await page.getByTestId('device-commands').waitFor();
    await page.getByTestId('history').locator('figure, p').first().waitFor();
    expect(await page.getByTestId('command-panel').count()).toBe(0);
    expect(await page.locator('select#cmd-name, button.primary').count()).toBe(0);
    expect(await page.locator('nav a[href="#/bulk"]').count()).toBe(0);
    await go('/bulk');
    expect(await page.locator('[data-view="bulk"] form').count()).toBe(0);
    expect(errors).toEqual([]);
  });
});
