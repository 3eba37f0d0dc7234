import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../gateway/clock.ts';
import { GroupCommitter } from '../gateway/ingest/group-commit.ts';
import { Outbox } from '../gateway/outbox.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';

/** A pino logger whose lines land in an array. */
function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'warn' }, { write: (s: string) => lines.push(JSON.parse(s)) });
  return { log, lines };
}

// Issue 8, "what must hold" 1 and row 3: nothing a device sends may throw out of a broker hook
// or a committer callback, and a poison must not be re-sent forever by a persistent session.
describe('a handler that throws on a device message', () => {
  let gw: TestGateway;
  const { log, lines } = capturingLogger();
  beforeAll(async () => {
    gw = await startTestGateway({
      log,
      modules: [
        {
          name: 'poisoned',
          onState(_device, state) {
            if ('report_interval_seconds' in state) throw new TypeError('cannot read properties of poison');
          },
        },
      ],
    });
  });
  afterAll(async () => gw?.stop());

  it('is logged with context, quarantined as an internal error and acknowledged', async () => {
    const dev = await gw.register({ model: 'lumina-slc300', firmware: '1.0.0' });
    const opts = { clean: false, clientId: dev.id };
    const client = await gw.connect(dev.id, dev.secret, opts);
    await client.publishAsync(`devices/${dev.id}/state`, '{"report_interval_seconds":60}', { qos: 1 });
    await client.endAsync();
    // The persistent session has nothing left to re-send, and the next message goes through.
    const again = await gw.connect(dev.id, dev.secret, opts);
    await again.publishAsync(
      `devices/${dev.id}/telemetry`,
      JSON.stringify({ on: true, dim: 7, p: 1, lux: 1, hrs: 1 }),
      {
        qos: 1,
      },
    );
    await again.endAsync();

    const q = await gw.api('GET', `/api/quarantine?deviceId=${dev.id}`);
    expect(q.body.entries).toEqual([
      expect.objectContaining({
        topic: `devices/${dev.id}/state`,
        payload: '{"report_interval_seconds":60}',
        reasons: [{ path: '$', message: 'internal error: cannot read properties of poison' }],
      }),
    ]);
    expect(lines).toContainEqual(
      expect.objectContaining({ deviceId: dev.id, topic: `devices/${dev.id}/state`, level: 50 }),
    );
    const metrics = await fetch(`${gw.httpUrl}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/^citygate_ingest_errors_total 1$/m);
    expect((await gw.api('GET', `/api/devices/${dev.id}`)).body.lastReading).toMatchObject({
      dim_percent: 7,
    });
  });
});

describe('a presence hook that throws', () => {
  it('is logged and the connection goes on', async () => {
    const { log, lines } = capturingLogger();
    const gw = await startTestGateway({
      log,
      modules: [
        {
          name: 'poisoned',
          onPresence(device, online) {
            if (online) throw new TypeError(`presence bug for ${device.id}`);
          },
        },
      ],
    });
    try {
      const dev = await gw.register({ model: 'lumina-slc300', firmware: '1.0.0' });
      const client = await gw.connect(dev.id, dev.secret);
      await client.publishAsync(
        `devices/${dev.id}/telemetry`,
        JSON.stringify({ on: true, dim: 9, p: 1, lux: 1, hrs: 1 }),
        {
          qos: 1,
        },
      );
      await client.endAsync();
      expect((await gw.api('GET', `/api/devices/${dev.id}`)).body.lastReading).toMatchObject({
        dim_percent: 9,
      });
      expect(lines).toContainEqual(expect.objectContaining({ hook: 'presence', msg: 'a broker hook threw' }));
    } finally {
      await gw.stop();
    }
  });
});

describe('a group commit callback that throws', () => {
  it('does not stop the callbacks after it nor escape the timer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'citygate-committer-'));
    const outbox = new Outbox(join(dir, 'outbox.db'));
    const { log, lines } = capturingLogger();
    const committer = new GroupCommitter(outbox, { clock: systemClock, maxBytes: 1024 ** 2, log });
    try {
      const released: string[] = [];
      committer.submit({
        lines: ['m v=1 1'],
        quarantined: [],
        acknowledged: true,
        done: () => released.push('a'),
      });
      committer.submit({
        lines: ['m v=2 2'],
        quarantined: [],
        acknowledged: true,
        done: () => {
          throw new TypeError('a callback bug');
        },
      });
      committer.submit({
        lines: ['m v=3 3'],
        quarantined: [],
        acknowledged: true,
        done: () => released.push('c'),
      });
      await vi.waitFor(() => expect(released).toEqual(['a', 'c']));
      expect(outbox.pending).toBe(3);
      expect(lines).toContainEqual(expect.objectContaining({ msg: 'a commit callback threw', level: 50 }));
    } finally {
      committer.close();
      outbox.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
