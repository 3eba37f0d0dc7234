import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localClock } from '../gateway/lighting/local-time.ts';
import {
  type DashboardPage,
  launchBrowser,
  openDashboard,
  type SimulatedCity,
  startSimulatedCity,
  tokenFor,
} from './helpers/browser.ts';

/** Pixels of a canvas that are not transparent: a drawn chart has many. */
const inkOf = (page: Page, selector: string) =>
  page.locator(selector).evaluate((c: HTMLCanvasElement) => {
    const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
    return n;
  });

interface ApiGroup {
  id: string;
  nextSteps: Array<{ at: string; level: number }>;
}

/** The lighting view against the lighting API of a real gateway with simulated lamps. */
describe('the lighting view in Chromium', { timeout: 90_000 }, () => {
  let city: SimulatedCity;
  let browser: Browser;
  let operator: string;
  let viewer: string;
  const pages: DashboardPage[] = [];
  const open = async (token: string, lang?: 'vi' | 'en') => {
    const p = await openDashboard(browser, city.gw.httpUrl, token, { lang });
    pages.push(p);
    await p.go('/lighting');
    return p;
  };
  const api = (path: string) => city.gw.api('GET', path).then((r) => r.body);

  beforeAll(async () => {
    [city, browser] = await Promise.all([startSimulatedCity({ perFamily: 20 }), launchBrowser()]);
    [operator, viewer] = await Promise.all([tokenFor(city.gw, 'operator'), tokenFor(city.gw, 'viewer')]);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await city?.stop();
  });

  it('lists the groups the API has, with the same next-step times in Hanoi time, and draws the night chart', async () => {
    const { page, errors, screenshot } = await open(operator);
    const body = await api('/api/lighting/groups');
    const groups: ApiGroup[] = body.groups;
    expect(groups.length).toBeGreaterThan(0);
    const rows = page.locator('[data-testid=lighting-groups] tbody tr');
    await expect.poll(() => rows.count()).toBe(groups.length);
    expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-group')))).toEqual(
      groups.map((g) => g.id),
    );
    for (const g of groups) {
      const row = page.locator(`tr[data-group="${g.id}"]`);
      const times = await row.getByTestId('step-time').allTextContents();
      // Local clock computed by the gateway's own Asia/Ho_Chi_Minh conversion, not the browser's zone.
      expect(times).toEqual(g.nextSteps.map((s) => localClock(Date.parse(s.at))));
      expect(
        await row.locator('time').evaluateAll((ts) => ts.map((t) => t.getAttribute('datetime'))),
      ).toEqual(g.nextSteps.map((s) => s.at));
      // Sunset and sunrise of the group's preview.
      const preview = await api(`/api/lighting/preview?group=${encodeURIComponent(g.id)}&stepMinutes=5`);
      await expect
        .poll(() => row.getByTestId('group-sun').textContent())
        .toContain(localClock(Date.parse(preview.sun.sunset)));
      expect(await row.getByTestId('group-sun').textContent()).toContain(
        localClock(Date.parse(preview.sun.sunrise)),
      );
      expect(await row.getByTestId('group-day-type').textContent()).toContain(preview.dayType);
    }
    await expect.poll(() => page.getByTestId('scheduler').getAttribute('data-state')).toBe(body.scheduler);

    // The chart of the first group: drawn, with one point per 5 minutes of the night.
    const first = groups[0].id;
    const chart = page.locator(`[data-testid=lighting-chart][data-group="${first}"]`);
    await chart.locator('.chart-box[data-drawn="true"] canvas').waitFor();
    const preview = await api(`/api/lighting/preview?group=${encodeURIComponent(first)}&stepMinutes=5`);
    expect(Number(await chart.getAttribute('data-points'))).toBe(preview.samples.length);
    expect(await inkOf(page, '[data-testid=lighting-chart] canvas')).toBeGreaterThan(500);
    expect(await chart.locator('[role=img]').getAttribute('aria-label')).toContain(
      localClock(Date.parse(preview.sun.sunset)),
    );

    // Another group is chosen with the keyboard; its chart replaces the first.
    if (groups.length > 1) {
      const second = groups[1].id;
      await page.locator(`tr[data-group="${second}"] button`).focus();
      await page.keyboard.press('Enter');
      await page
        .locator(`[data-testid=lighting-chart][data-group="${second}"] .chart-box[data-drawn="true"] canvas`)
        .waitFor();
      expect(await page.locator(`tr[data-group="${second}"]`).getAttribute('aria-current')).toBe('true');
      await page.locator(`tr[data-group="${first}"] button`).click();
      await chart.locator('.chart-box[data-drawn="true"] canvas').waitFor();
    }
    await screenshot('lighting');
    expect(errors).toEqual([]);
  });

  it('lists the lamps out of step as the API does, with expected and reported levels and device links', async () => {
    // Whether the photocells agree with the programs depends on the hour (by day every lamp is
    // off and in step): three lamps are dimmed by hand to a level no program step has.
    const dimmed = city.plans.filter((p) => p.family === 'streetlight').slice(0, 3);
    for (const p of dimmed) {
      const res = await city.gw.api('POST', `/api/devices/${p.id}/commands`, {
        name: 'setDimming',
        params: { level: 37 },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    }
    const outOfStep = async () => {
      const body = await api('/api/lighting/lamps?outOfStep=true&limit=100');
      return dimmed.filter((p) =>
        body.lamps.some(
          (l: { deviceId: string; reported: number | null }) => l.deviceId === p.id && l.reported === 37,
        ),
      ).length;
    };
    await expect.poll(outOfStep, { timeout: 20_000 }).toBe(dimmed.length);
    const { page, errors } = await open(viewer);
    const list = page.getByTestId('out-of-step-list');
    await page.getByTestId('out-of-step-total').waitFor();
    const lamps = await api('/api/lighting/lamps?outOfStep=true&limit=100');
    expect(lamps.total).toBeGreaterThanOrEqual(dimmed.length);
    await expect.poll(() => list.locator('tbody tr').count()).toBe(lamps.lamps.length);
    for (const l of lamps.lamps.slice(0, 10)) {
      const row = list.locator(`tr[data-device="${l.deviceId}"]`);
      expect(await row.getByTestId('expected').textContent()).toBe(`${l.expected} %`);
      expect(await row.getByTestId('reported').textContent()).toContain(
        l.reported === null ? '—' : `${l.reported} %`,
      );
      expect(await row.locator('[data-state]').getAttribute('data-state')).toBe(l.state);
      // The state is named, not only coloured.
      expect((await row.locator('[data-state]').textContent())?.trim().length).toBeGreaterThan(2);
      expect(await row.locator('a').getAttribute('href')).toBe(`#/devices/${encodeURIComponent(l.deviceId)}`);
    }
    // A link leads to the device page.
    const id = lamps.lamps[0].deviceId;
    await list.locator(`tr[data-device="${id}"] a`).click();
    await page.locator(`main[data-path="/devices/${id}"]`).waitFor();
    await expect.poll(() => page.getByTestId('device-id').textContent()).toBe(id);
    expect(errors).toEqual([]);
  });

  it('a viewer sees no override controls; an operator sees the form, in Vietnamese by default', async () => {
    const asViewer = await open(viewer);
    await asViewer.page.getByTestId('lighting-overrides').waitFor();
    expect(await asViewer.page.getByTestId('override-form').count()).toBe(0);
    expect(await asViewer.page.locator('[data-action=end-override]').count()).toBe(0);
    expect(await asViewer.page.locator('a[href="#/lighting"]').textContent()).toBe('Chiếu sáng');
    expect(await asViewer.page.locator('h1').textContent()).toBe('Chiếu sáng đô thị');
    expect(asViewer.errors).toEqual([]);

    const asOperator = await open(operator, 'en');
    await asOperator.page.getByTestId('override-form').waitFor();
    expect(await asOperator.page.locator('h1').textContent()).toBe('Street lighting');
    // The form is reachable with the keyboard: its fields follow in tab order.
    await asOperator.page.getByTestId('override-form').locator('select').focus();
    await asOperator.page.keyboard.press('Tab');
    expect(await asOperator.page.evaluate(() => document.activeElement?.getAttribute('type'))).toBe('number');
    expect(asOperator.errors).toEqual([]);
  });
});

/** With the scheduler running, an operator starts an override from the page and ends it. */
describe('a lighting override from the page', { timeout: 90_000 }, () => {
  let city: SimulatedCity;
  let browser: Browser;
  beforeAll(async () => {
    [city, browser] = await Promise.all([
      startSimulatedCity({ perFamily: 6, seed: 'override', config: { LIGHTING_SCHEDULER: 'on' } }),
      launchBrowser(),
    ]);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await city?.stop();
  });

  it('starts an override for a district with the keyboard, the API holds it, and ends it', async () => {
    const operator = await tokenFor(city.gw, 'operator');
    const { page, errors, go } = await openDashboard(browser, city.gw.httpUrl, operator, { lang: 'en' });
    await go('/lighting');
    await expect.poll(() => page.getByTestId('scheduler').getAttribute('data-state')).toBe('on');
    const district = city.plans.find((p) => p.family === 'streetlight')!.district;
    const form = page.getByTestId('override-form');
    await form.locator(`option[value="d:${district}"]`).waitFor({ state: 'attached' });
    await form.locator('select').selectOption(`d:${district}`);
    await form.locator('input[type=number]').first().fill('42');
    await form.locator('input[type=number]').nth(1).fill('30');
    const reason = form.locator('input:not([type])');
    await reason.fill('Festival rehearsal');
    await reason.press('Enter');
    await expect
      .poll(() => page.getByTestId('override-message').textContent())
      .toMatch(/Manual override started/);

    const overrides = (await city.gw.api('GET', '/api/lighting/overrides')).body.overrides;
    expect(overrides).toHaveLength(1);
    const o = overrides[0];
    expect(o).toMatchObject({
      level: 42,
      reason: 'Festival rehearsal',
      endedAt: null,
      createdBy: 'browser-operator',
    });
    expect(o.group).toEqual({ district });
    expect(o.lamps).toBe(
      city.plans.filter((p) => p.family === 'streetlight' && p.district === district).length,
    );
    const row = page.locator(`tr[data-override="${o.id}"]`);
    await expect.poll(() => row.textContent()).toContain('42 %');
    // The lamps of the district should now be at 42 %.
    const lamps = (await city.gw.api('GET', `/api/lighting/lamps?district=${encodeURIComponent(district)}`))
      .body;
    expect(lamps.lamps.map((l: { expected: number }) => l.expected)).toEqual(lamps.lamps.map(() => 42));

    await row.locator('[data-action=end-override]').focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => row.textContent()).toMatch(/Ended/);
    const ended = (await city.gw.api('GET', '/api/lighting/overrides')).body.overrides[0];
    expect(ended.endedBy).toBe('browser-operator');
    expect(await row.locator('[data-action=end-override]').count()).toBe(0);
    expect(errors).toEqual([]);
  });
});
