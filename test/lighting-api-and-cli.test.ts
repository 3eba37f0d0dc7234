import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';

/** The lighting API's validation and roles, and `citygate lighting` against a real gateway. */
describe('lighting API and CLI', () => {
  let gw: TestGateway;
  let viewer: string;
  let operator: string;
  beforeAll(async () => {
    gw = await startTestGateway();
    viewer = (await gw.api('POST', '/api/tokens', { name: 'wall', role: 'viewer' })).body.token;
    operator = (await gw.api('POST', '/api/tokens', { name: 'shift', role: 'operator' })).body.token;
    for (const [i, d] of [
      ['Hoàn Kiếm', 'Hàng Bạc', 21.0285, 105.8542],
      ['Hoàn Kiếm', 'Hàng Trống', 21.027, 105.85],
      ['Ba Vì', 'Tây Đằng', 21.199, 105.423],
    ].entries())
      await gw.api('POST', '/api/devices', {
        id: `sl-cli-${i}`,
        model: i === 2 ? 'dragonlight-nc20' : 'lumina-slc300',
        firmware: '1.0',
        district: d[0],
        ward: d[1],
        lat: d[2],
        lon: d[3],
        tags: i === 2 ? ['rural'] : ['urban'],
      });
  }, 60_000);
  afterAll(() => gw?.stop());

  it('serves the Hanoi defaults; only admins edit; bad programs and calendars are 400 naming the field', async () => {
    const programs = (await gw.api('GET', '/api/lighting/programs', undefined, viewer)).body.programs;
    expect(programs.map((p: { id: string }) => p.id)).toContain('hanoi-standard');
    const good = {
      id: 'test-prog',
      name: 'Test',
      steps: [
        { at: '18:00', level: 100 },
        { at: '06:00', level: 0 },
      ],
    };
    expect((await gw.api('PUT', '/api/lighting/programs/test-prog', good, operator)).status).toBe(403);
    expect((await gw.api('PUT', '/api/lighting/programs/test-prog', good)).status).toBe(201);
    const bad = await gw.api('PUT', '/api/lighting/programs/test-prog', {
      ...good,
      steps: [{ event: 'moonrise', level: 100 }],
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/steps/);
    const badTime = await gw.api('PUT', '/api/lighting/programs/test-prog', {
      ...good,
      steps: [{ at: '24:10', level: 1 }],
    });
    expect(badTime.status).toBe(400);
    expect(JSON.stringify(badTime.body)).toContain('HH:MM');
    const mismatch = await gw.api('PUT', '/api/lighting/programs/other', good);
    expect(mismatch.status).toBe(400);
    const cal = (await gw.api('GET', '/api/lighting/calendar')).body;
    const unknown = await gw.api('PUT', '/api/lighting/calendar', {
      ...cal.calendar,
      exceptions: [{ name: 'x', from: '2026-12-01', program: 'nope' }],
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toContain('no program nope');
    const badDate = await gw.api('PUT', '/api/lighting/calendar', {
      ...cal.calendar,
      holidays: [{ name: 'x', from: '2026-02-30' }],
    });
    expect(badDate.status).toBe(400);
    expect(JSON.stringify(badDate.body)).toContain('holidays');
    const inUse = await gw.api('DELETE', '/api/lighting/programs/hanoi-standard');
    expect(inUse.status).toBe(409);
    expect((await gw.api('DELETE', '/api/lighting/programs/test-prog')).status).toBe(204);
    const preview = await gw.api(
      'GET',
      '/api/lighting/preview?program=hanoi-standard&lat=78.2&lon=15.6&date=2026-12-21',
    );
    expect(preview.status).toBe(422);
    expect(preview.body.message).toContain('polar day or night');
    expect((await gw.api('GET', '/api/lighting/preview?program=hanoi-standard&lat=91&lon=0')).status).toBe(
      400,
    );
  });

  it('`citygate lighting preview` draws a night with sunset and sunrise marked', async () => {
    const r = await runCli(
      gw,
      ['lighting', 'preview', '--program', 'hanoi-standard', '--date', '2026-11-30'],
      {
        token: viewer,
      },
    );
    expect(r.err).toBe('');
    console.log(r.out);
    expect(r.out).toContain('hanoi-standard, night of 2026-11-30 (weekday)');
    expect(r.out).toMatch(/S sunset 17:1\d .* R sunrise 06:1\d/);
    expect(r.out).toContain('22:30 60% (22:30), 00:30 30% (00:30)');
    const chartRows = r.out.split('\n').filter((l) => /[┤│]/.test(l));
    expect(chartRows).toHaveLength(8);
    expect(chartRows[0]).toContain('█'); // 100 % after sunset
  });

  it('`citygate lighting status` and `energy` show groups, next steps and kWh per district', async () => {
    const s = await runCli(gw, ['lighting', 'status'], { token: viewer });
    expect(s.err).toBe('');
    console.log(s.out);
    expect(s.out).toMatch(/hoan-kiem .*district=Hoàn Kiếm/);
    expect(s.out).toMatch(/rural .*tag=rural .*hanoi-suburban ×1/);
    const e = await runCli(gw, ['lighting', 'energy', '--date', '2026-11-30'], { token: viewer });
    expect(e.err).toBe('');
    console.log(e.out);
    expect(e.out).toMatch(/Hoàn Kiếm\s+│?\s*2/);
    const energy = (await gw.api('GET', '/api/lighting/energy?date=2026-11-30', undefined, viewer)).body;
    expect(energy.total.lamps).toBe(3);
    expect(energy.total.savingPercent).toBeGreaterThan(20);
    expect(energy.total.programKwh).toBeLessThan(energy.total.allNightKwh);
  });
});
