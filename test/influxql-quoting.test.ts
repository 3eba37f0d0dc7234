import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quoteIdent, quoteString } from '../gateway/history/influxql-history.ts';
import { type Influxd, startInfluxd } from './helpers/influxd.ts';

/** Hostile names reach InfluxQL only quoted: checked against a real influxd, not a string compare. */
describe('InfluxQL quoting', () => {
  let influxd: Influxd;
  const t = Date.now() - 60_000;
  beforeAll(async () => {
    influxd = await startInfluxd();
    await influxd.createDatabase('q');
    // Line protocol needs no escape for quotes in tag values; the measurement holds a space.
    const res = await fetch(`${influxd.url}/write?db=q&precision=ms`, {
      method: 'POST',
      body: [`odd\\ family,district=O'Hara\\ "x" v=1 ${t}`, `odd\\ family,district=plain v=2 ${t + 1}`].join(
        '\n',
      ),
    });
    expect(res.status).toBe(204);
  });
  afterAll(async () => influxd?.stop());

  const select = (district: string) =>
    influxd.query(
      `SELECT v FROM ${quoteIdent('odd family')} WHERE "district" = ${quoteString(district)}`,
      'q',
    );

  it('finds a value holding both quote characters', async () => {
    const [r] = await select(`O'Hara "x"`);
    expect(r.series?.[0].values).toEqual([[t, 1]]);
  });

  it('keeps an injection attempt a plain string that matches nothing', async () => {
    for (const attack of [
      `x' OR district = 'plain`,
      `x' OR 1=1 --`,
      "plain'; DROP DATABASE q; --",
      'a\nb',
      'a\\',
    ]) {
      const [r] = await select(attack);
      expect(r.series).toBeUndefined();
    }
    expect((await influxd.query('SHOW DATABASES'))[0].series?.[0].values).toContainEqual(['q']);
  });
});
