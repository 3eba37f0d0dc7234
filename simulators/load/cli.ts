import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { loadSpecs } from '../../firmware-specs/index.ts';
import { type ServerProcess, spawnGateway } from '../bench/processes.ts';
import { GatewayApi, provisionDevices } from './gateway-api.ts';
import type { ProvisionedDevice, Rate } from './protocol.ts';
import { formatReport } from './report.ts';
import { defaultWorkers, runLoad } from './run.ts';
import { cityPlans, parsePerFamily, perFamilyOf } from './scenario.ts';

/**
 * `npm run load -- --devices N --rate R --qos 0|1 --duration S`: provisions the devices through
 * the gateway's API, connects them as real MQTT clients over several worker processes, publishes
 * at the rate, and reports sent, acknowledged, stored, quarantined, lost and PUBACK latency.
 */
const int =
  (min: number, max = Number.MAX_SAFE_INTEGER) =>
  (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`an integer from ${min} to ${max}`);
    return n;
  };
const rate = (v: string): Rate => {
  if (v === 'max') return 'max';
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('readings per second, or "max"');
  return n;
};

const program = new Command('load')
  .description('Load generator: simulated city devices publishing to a citygate gateway over MQTT')
  .option('--devices <n>', 'devices, split over the families by the city mix', int(1, 100_000), 200)
  .option('--per-family <list>', 'devices per family, e.g. streetlight=400,electricity_meter=300')
  .option('--rate <r>', 'readings per second over all devices, or "max" (closed loop)', rate, 1000 as Rate)
  .option('--inflight <n>', 'readings each device keeps unacknowledged (closed loop)', int(1, 1000), 4)
  .addOption(new Option('--qos <qos>', 'QoS of telemetry').choices(['0', '1']).default('1'))
  .option('--duration <s>', 'seconds of publishing', int(1, 3600), 30)
  .option('--workers <n>', 'publisher processes (default: by cores and devices)', int(1, 64))
  .option('--ramp <n>', 'connections per second', int(1, 10_000), 500)
  .option('--gateway <url>', 'the gateway HTTP API', 'http://127.0.0.1:8080')
  .option('--mqtt <url>', 'the gateway MQTT listener', 'mqtt://127.0.0.1:1883')
  .option('--token <token>', 'an admin bearer token (default $CITYGATE_ADMIN_TOKEN or ./data/admin-token)')
  .option('--victoria <url>', 'victoria-metrics behind the gateway, to count the stored readings')
  .option('--local', 'start victoria-metrics and a gateway on free ports just for this run')
  .option('--secret-cost <n>', 'with --local: scrypt cost of the device secrets', int(2, 1 << 20), 1024)
  .option('--devices-file <file>', 'keep the provisioned devices and secrets here, and reuse them')
  .option('--accelerate <x>', 'daily patterns run this many times faster than the clock', Number, 1)
  .option('--seed <seed>', 'placement seed', 'citygate')
  .option('--json <file>', 'also write the report as JSON')
  .option('--settle <s>', 'seconds to await acknowledgements and storage after the run', int(1, 600), 30);

program.parse();
const o = program.opts();

function adminToken(): string {
  if (o.token) return o.token;
  if (process.env.CITYGATE_ADMIN_TOKEN) return process.env.CITYGATE_ADMIN_TOKEN;
  // The token the gateway saved on its first start: `npm start`'s, else `npm run demo`'s.
  const dirs = [process.env.CITYGATE_DATA_DIR, './data', './data/demo'].filter(Boolean) as string[];
  for (const dir of dirs) {
    const file = join(dir, 'admin-token');
    if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  }
  throw new Error('no admin token: pass --token, set CITYGATE_ADMIN_TOKEN, or use --local');
}

const cleanup: Array<() => Promise<void>> = [];
async function shutdown(code: number): Promise<never> {
  for (const fn of cleanup.reverse()) await fn().catch(() => {});
  process.exit(code);
}
process.once('SIGINT', () => {
  process.stderr.write('\ninterrupted; stopping\n');
  void shutdown(130);
});

async function main(): Promise<number> {
  const specs = await loadSpecs();
  let gatewayUrl: string = o.gateway;
  let mqttUrl: string = o.mqtt;
  let victoriaUrl: string | undefined = o.victoria;
  let token: string;
  if (o.local) {
    const { startVictoria, stopAndRemove } = await import('../../test/helpers/victoria.ts');
    const vm = await startVictoria();
    cleanup.push(() => stopAndRemove(vm));
    const dataDir = mkdtempSync(join(tmpdir(), 'citygate-load-'));
    cleanup.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    const gw: ServerProcess = await spawnGateway({ dataDir, influxUrl: vm.url, secretCost: o.secretCost });
    cleanup.push(() => gw.stop());
    gatewayUrl = gw.httpUrl!;
    mqttUrl = gw.mqttUrl;
    victoriaUrl = vm.url;
    token = gw.adminToken!;
    process.stderr.write(`local gateway ${gatewayUrl} / ${mqttUrl}, victoria-metrics ${vm.url}\n`);
  } else {
    token = adminToken();
  }
  const api = new GatewayApi(gatewayUrl, token);
  const perFamily = o.perFamily ? parsePerFamily(o.perFamily) : perFamilyOf(o.devices);
  const saved: ProvisionedDevice[] =
    o.devicesFile && existsSync(o.devicesFile) ? JSON.parse(readFileSync(o.devicesFile, 'utf8')).devices : [];
  // Without a devices file every run registers its own devices, under a fresh prefix.
  const prefix = o.devicesFile ? 'lg' : `lg${Date.now().toString(36)}`;
  const plans = cityPlans(specs, { perFamily, seed: o.seed, prefix });
  const started = Date.now();
  const devices = await provisionDevices(api, plans, {
    known: new Map(saved.map((d) => [d.id, d.secret])),
    onProgress: (done, total) => process.stderr.write(`\r  provisioned ${done}/${total}`),
  });
  process.stderr.write(
    `\n  ${devices.length} devices ready in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
  if (o.devicesFile)
    writeFileSync(o.devicesFile, JSON.stringify({ gateway: gatewayUrl, devices }, null, 1), { mode: 0o600 });

  const report = await runLoad({
    mqttUrl,
    api,
    victoriaUrl,
    devices,
    specs,
    qos: Number(o.qos) as 0 | 1,
    rate: o.rate,
    inflight: o.inflight,
    durationSeconds: o.duration,
    workers: o.workers ?? defaultWorkers(devices.length),
    connectsPerSecond: o.ramp,
    settleSeconds: o.settle,
    accelerate: o.accelerate,
    progress: true,
  });
  process.stdout.write(`\nLoad report\n${formatReport(report)}\n`);
  if (o.json) writeFileSync(o.json, `${JSON.stringify(report, null, 2)}\n`);
  return report.lost || report.connectionErrors ? 2 : 0;
}

main().then(
  (code) => shutdown(code),
  (err: Error) => {
    process.stderr.write(`\nload: ${err.message}\n`);
    void shutdown(1);
  },
);
