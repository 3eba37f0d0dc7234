import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, openDashboard, type SimulatedCity, startSimulatedCity } from './helpers/browser.ts';

describe('the dashboard in Chromium, against a gateway with a simulated city', () => {
  let city: SimulatedCity;
  let browser: Browser;
  beforeAll(async () => {
    [city, browser] = await Promise.all([startSimulatedCity({ perFamily: 30 }), launchBrowser()]);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await city?.stop();
  });

  it('signs in with a #token= link and shows the role', async () => {
    const { page, errors } = await openDashboard(browser, city.gw.httpUrl, city.gw.admin);
    await expect.poll(() => page.locator('[data-role]').getAttribute('data-role')).toBe('admin');
    expect(page.url()).not.toContain('token=');
    expect(errors).toEqual([]);
  });
});
