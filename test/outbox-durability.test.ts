import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestGateway } from './helpers/gateway.ts';
import { spawnGateway } from './helpers/gateway-process.ts';
import { startVictoria, stopAndRemove, type Victoria } from './helpers/victoria.ts';
import { eventually } from './helpers/wait.ts';

const N = 1000;
const ADMIN = 'test-admin-token-0123456789abcdef';

/** Publishes N QoS 1 readings with distinct timestamps; resolves when every PUBACK is in. */
async function publishReadings(client: mqtt.MqttClient, id: string, t0: number): Promise<number> {
  let acked = 0;
  await Promise.all(
    Array.from({ length: N }, (_, i) =>
      client
        .publishAsync(
          `devices/${id}/telemetry`,
          JSON.stringify({ on: true, dim: i % 101, p: 50, lux: 1, hrs: i, ts: t0 + i }),
          {
            qos: 1,
          },
        )
        .then(() => acked++),
    ),
  );
  return acked;
}

async function uniqueSamples(vm: Victoria, id: string) {
  const series = await vm.exportSeries(`{__name__="streetlight_burn_hours",device_id="${id}"}`);
  const ts = series.flatMap((s) => s.timestamps);
  return { total: ts.length, unique: new Set(ts).size };
}

let cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
  cleanups = [];
});

describe('no reading lost', () => {
  it('database down: 1,000 QoS 1 readings are acknowledged, buffered, and all arrive once it is back', async () => {
    const vm = await startVictoria();
    cleanups.push(() => stopAndRemove(vm));
    // 1,000 readings at once from one device: far past the per-device rate limit, not under test here.
    const gw = await startTestGateway({ influxUrl: vm.url, config: { DEVICE_RATE_PER_SEC: 0 } });
    cleanups.push(() => gw.stop());
    const { id, secret } = await gw.register({ id: 'sl-dbdown', model: 'lumina-slc300', firmware: '1.0.0' });
    await vm.stop();

    const client = await gw.connect(id, secret);
    const t0 = Date.now() - 600_000;
    expect(await publishReadings(client, id, t0)).toBe(N);
    await client.endAsync();
    const stats = await gw.api('GET', '/api/stats');
    expect(stats.body.accepted).toBe(N);
    expect(stats.body.buffered).toBe(N);
    expect(stats.body.written).toBe(0);

    await vm.restart();
    const after = await eventually(
      () => uniqueSamples(vm, id),
      (s) => s.unique >= N,
      30_000,
    );
    expect(after).toEqual({ total: N, unique: N });
    expect((await gw.api('GET', '/api/stats')).body.buffered).toBe(0);
  });

  it('crash: after SIGKILL following the PUBACKs, every acknowledged reading reaches the database', async () => {
    const vm = await startVictoria();
    cleanups.push(() => stopAndRemove(vm));
    const dataDir = mkdtempSync(join(tmpdir(), 'citygate-crash-'));
    cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    const env = {
      CITYGATE_DATA_DIR: dataDir,
      CITYGATE_ADMIN_TOKEN: ADMIN,
      INFLUX_URL: vm.url,
      DEVICE_RATE_PER_SEC: '0', // 1,000 readings at once from one device
    };
    // The database is down while the readings come in, so they are only in the outbox at the kill.
    await vm.stop();
    const first = await spawnGateway(env);
    cleanups.push(() => first.kill());
    const res = await fetch(`${first.httpUrl}/api/devices`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        id: 'sl-crash',
        model: 'lumina-slc300',
        firmware: '1.0.0',
        district: 'Ba Đình',
        ward: 'Điện Biên',
      }),
    });
    const { secret } = (await res.json()) as { secret: string };
    const client = await mqtt.connectAsync(first.mqttUrl, {
      clientId: 'sl-crash',
      username: 'sl-crash',
      password: secret,
      reconnectPeriod: 0,
    });
    const t0 = Date.now() - 600_000;
    expect(await publishReadings(client, 'sl-crash', t0)).toBe(N);
    await first.kill('SIGKILL');
    client.end(true);

    await vm.restart();
    const second = await spawnGateway({ ...env, MQTT_PORT: first.mqttUrl.split(':').at(-1)! });
    cleanups.push(() => second.kill('SIGTERM'));
    const after = await eventually(
      () => uniqueSamples(vm, 'sl-crash'),
      (s) => s.unique >= N,
      30_000,
    );
    expect(after.unique).toBe(N);
  }, 90_000);
});

describe('outbox disk bound', () => {
  it('past the bound, QoS 1 readings get no PUBACK until the database drains the outbox; nothing is dropped', async () => {
    const vm = await startVictoria();
    cleanups.push(() => stopAndRemove(vm));
    const gw = await startTestGateway({ influxUrl: vm.url, config: { OUTBOX_MAX_BYTES: 5000 } });
    cleanups.push(() => gw.stop());
    const { id, secret } = await gw.register({ id: 'sl-bound', model: 'lumina-slc300', firmware: '1.0.0' });
    await vm.stop();
    const client = await gw.connect(id, secret);
    const t0 = Date.now() - 600_000;
    let acked = 0;
    const all = Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        client
          .publishAsync(
            `devices/${id}/telemetry`,
            JSON.stringify({ on: true, dim: 1, p: 5, lux: 1, hrs: i, ts: t0 + i }),
            { qos: 1 },
          )
          .then(() => acked++),
      ),
    );
    await new Promise((r) => setTimeout(r, 1500));
    expect(acked).toBeGreaterThan(0);
    expect(acked).toBeLessThan(200);
    expect(gw.gateway.ctx.outbox.bytes).toBeLessThan(5000 + 2000);

    await vm.restart();
    await all;
    expect(acked).toBe(200);
    await client.endAsync();
    const after = await eventually(
      () => uniqueSamples(vm, id),
      (s) => s.unique >= 200,
      30_000,
    );
    expect(after).toEqual({ total: 200, unique: 200 });
    expect((await gw.api('GET', '/api/stats')).body.dropped).toBe(0);
  });
});
