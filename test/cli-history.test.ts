import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { historyFixture, publishReadings } from './helpers/history-fixture.ts';

describe('citygate history', () => {
  let gw: TestGateway;
  const fixture = historyFixture(Date.now());
  const cli = (args: string[]) => runCli(gw, args);

  beforeAll(async () => {
    gw = await startTestGateway();
    const dev = await gw.register({ id: 'sl-cli-h1', model: 'lumina-slc300', firmware: '1.0' });
    await publishReadings(gw, dev, fixture.readings);
  });
  afterAll(async () => gw?.stop());

  it('draws a chart of the buckets with min and max labels and a summary line', async () => {
    const res = await cli([
      'history',
      'sl-cli-h1',
      'dim_percent',
      '--from',
      fixture.from,
      '--to',
      fixture.to,
    ]);
    expect(res.code).toBe(0);
    const lines = res.out.trimEnd().split('\n');
    expect(lines[0]).toBe('dim_percent of sl-cli-h1 (streetlight), mean per column, from rollup');
    // 12 five-minute slots: the highest mean (75) labels the top row, the lowest (5) the bottom.
    expect(lines[1]).toMatch(/^75 ┤ *█/);
    expect(lines[8]).toMatch(/^ 5 ┤/);
    expect(lines[9]).toBe(`   └${'─'.repeat(12)}`);
    expect(res.out).toContain(`${fixture.from.slice(0, 16)}Z`);
    expect(lines.at(-1)).toMatch(/^4 buckets of 5m, 13 readings: min 5 {2}mean 45\.77 {2}max 100 {2}last 5 /);
  });

  it('prints the API answer with --json', async () => {
    const res = await cli([
      'history',
      'sl-cli-h1',
      'dim_percent',
      '--from',
      fixture.from,
      '--to',
      fixture.to,
      '--step',
      '1h',
      '--json',
    ]);
    expect(JSON.parse(res.out)).toMatchObject({
      deviceId: 'sl-cli-h1',
      step: '1h',
      fields: { dim_percent: [{ t: fixture.from, count: 13, min: 5, max: 100, last: 5 }] },
    });
  });

  it('says which parameter is wrong and exits non-zero', async () => {
    const res = await cli(['history', 'sl-cli-h1', 'lamp_on']);
    expect(res.code).toBe(1);
    expect(res.err).toContain(
      'citygate: 400 querystring.fields: lamp_on: not a numeric field of streetlight',
    );
  });
});
