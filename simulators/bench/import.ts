import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import type { ModelSpec } from '../../firmware-specs/define-device.ts';
import { cityPlans } from '../load/scenario.ts';
import { spawnGateway } from './processes.ts';

export interface ImportBenchResult {
  devices: number;
  csvBytes: number;
  /** From the POST to the answer with every secret: parse, validation, hashing, one transaction. */
  seconds: number;
  /** Gateway CPU (user + system) over the import, seconds. */
  cpuSeconds: number;
  /** Gateway RSS after the import, MiB. */
  rssMib: number;
  /** The slowest GET /healthz answer while the import ran: how long devices and clients waited. */
  healthzMaxMs: number;
  /** A gateway restart that loads the registry with them, seconds to ready. */
  restartSeconds: number;
  /** Devices from the secrets CSV that then connected over MQTT. */
  connected: number;
}

const quote = (v: string) => (/[",\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);

/** The Hanoi city mix as an installer's CSV (MQTT devices: Modbus meters have no secret). */
export function cityCsv(specs: ReadonlyMap<string, ModelSpec>, devices: number): string {
  const perFamily = {
    streetlight: Math.round(devices * 0.5),
    electricity_meter: Math.round(devices * 0.25),
    air_quality: Math.round(devices * 0.15),
    water_station: 0,
  };
  perFamily.water_station =
    devices - perFamily.streetlight - perFamily.electricity_meter - perFamily.air_quality;
  const lines = ['id,model,firmware,district,ward,lat,lon,tags'];
  for (const p of cityPlans(specs, { perFamily, seed: 'import-bench', prefix: 'imp' }))
    lines.push(
      [
        p.id,
        p.model,
        p.firmware,
        quote(p.district),
        quote(p.ward),
        p.lat,
        p.lon,
        quote(p.tags.join(';')),
      ].join(','),
    );
  return `${lines.join('\n')}\n`;
}

/**
 * `devices` registered by one POST /api/devices/import to a gateway in its own process (issue 12:
 * 100,000 in under 60 s), then a few of the returned secrets used to connect, and a restart.
 */
export async function measureImport(opts: {
  specs: ReadonlyMap<string, ModelSpec>;
  devices: number;
  log: (line: string) => void;
}): Promise<ImportBenchResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'citygate-bench-import-'));
  let gateway = await spawnGateway({ dataDir });
  try {
    const csv = cityCsv(opts.specs, opts.devices);
    opts.log(`  ${opts.devices} rows, ${(csv.length / 1024 ** 2).toFixed(1)} MiB of CSV`);
    const cpu0 = gateway.cpuMs();
    const t0 = performance.now();
    const probe = healthzProbe(gateway.httpUrl!);
    const res = await fetch(`${gateway.httpUrl}/api/devices/import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${gateway.adminToken}`, 'content-type': 'text/csv' },
      body: csv,
      signal: AbortSignal.timeout(600_000),
    });
    const body = (await res.json()) as { imported: number; secretsCsv: string; message?: string };
    const seconds = (performance.now() - t0) / 1000;
    const healthzMaxMs = await probe.stop();
    const cpuSeconds = (gateway.cpuMs() - cpu0) / 1000;
    if (res.status !== 201 || body.imported !== opts.devices)
      throw new Error(`import: ${res.status} ${body.message ?? `${body.imported} imported`}`);
    const rssMib = gateway.rssBytes() / 1024 ** 2;
    const secrets = body.secretsCsv.trim().split('\n').slice(1);
    const sample = [secrets[0], secrets[Math.floor(secrets.length / 2)], secrets.at(-1)!];

    await gateway.stop();
    const r0 = performance.now();
    gateway = await spawnGateway({ dataDir });
    const restartSeconds = (performance.now() - r0) / 1000;
    let connected = 0;
    for (const line of sample) {
      const [id, secret] = line.split(',');
      const client = await mqtt.connectAsync(gateway.mqttUrl, {
        clientId: id,
        username: id,
        password: secret,
        reconnectPeriod: 0,
        connectTimeout: 5000,
      });
      connected++;
      await client.endAsync();
    }
    return {
      devices: opts.devices,
      csvBytes: csv.length,
      seconds,
      healthzMaxMs,
      cpuSeconds,
      rssMib,
      restartSeconds,
      connected,
    };
  } finally {
    await gateway.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** GET /healthz one after another until stopped; the slowest answer, in ms. */
function healthzProbe(url: string) {
  let max = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const t = performance.now();
      await fetch(`${url}/healthz`).then((r) => r.arrayBuffer());
      max = Math.max(max, performance.now() - t);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return max;
    },
  };
}

export const importSummary = (r: ImportBenchResult) =>
  `${r.devices.toLocaleString('en-US')} devices imported in ${r.seconds.toFixed(1)} s ` +
  `(gateway CPU ${r.cpuSeconds.toFixed(1)} s, slowest /healthz during it ${Math.round(r.healthzMaxMs)} ms, RSS ${r.rssMib.toFixed(0)} MiB after; restart with them ${r.restartSeconds.toFixed(1)} s; ` +
  `${r.connected} sampled secrets connected)`;
