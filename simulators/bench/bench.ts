import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { loadSpecs } from '../../firmware-specs/index.ts';
import { startVictoria, stopAndRemove } from '../../test/helpers/victoria.ts';
import { GatewayApi, provisionDevices } from '../load/gateway-api.ts';
import { WorkerPool } from '../load/pool.ts';
import { cityPlans } from '../load/scenario.ts';
import { renderChart } from './chart.ts';
import { clusterSummary, measureCluster } from './cluster.ts';
import { measureConnections } from './connections.ts';
import { measureFanout } from './fanout.ts';
import { historySummary, measureHistory } from './history.ts';
import { hostileSummary, measureHostile } from './hostile.ts';
import { importSummary, measureImport } from './import.ts';
import { measureAlarmCost, measureIngestCost } from './ingest-cost.ts';
import { describeMachine } from './machine.ts';
import { renderMarkdown } from './markdown.ts';
import { type ServerProcess, spawnBareBroker, spawnGateway } from './processes.ts';
import { type BenchResults, type BenchSettings, checkTargets } from './results.ts';
import { measureLatency, measureThroughput } from './throughput.ts';

/**
 * `npm run bench`: in one run, on this machine, the figures of issue #5: QoS 1 ingest of the
 * full gateway against a bare Aedes broker, latency, RSS by connected devices, bulk command
 * fan-out and ingest CPU per reading; written to docs/benchmarks.md with an SVG chart.
 */
const int = (v: string) => {
  const x = Number(v);
  if (!Number.isInteger(x) || x < 1) throw new InvalidArgumentError('a positive integer');
  return x;
};

const o = new Command('bench')
  .description('citygate benchmark: throughput, latency, connection scale, fan-out, ingest cost')
  .option('--throughput-devices <n>', 'devices publishing in the throughput runs', int, 1000)
  .option('--inflight <n>', 'readings each device keeps unacknowledged in the throughput runs', int, 4)
  .option('--rounds <n>', 'alternating bare/gateway throughput rounds', int, 3)
  .option('--duration <s>', 'seconds of each throughput run', int, 10)
  .option('--latency-rate <n>', 'readings/s of the fixed-rate latency runs', int, 2000)
  .option('--latency-duration <s>', 'seconds of each fixed-rate latency run', int, 10)
  .option('--streetlights <n>', 'streetlights among the registered devices (fan-out)', int, 5000)
  .option('--others <n>', 'meters, stations and air sensors among the registered devices', int, 5000)
  .option('--steps <list>', 'connection scale steps', '1000,5000,10000')
  .option('--workers <n>', 'load generator processes', int, 2)
  .option('--ramp <n>', 'connections per second in the connection scale test', int, 500)
  .option('--throughput-ramp <n>', 'connections per second before the throughput runs', int, 1000)
  .option('--secret-cost <n>', 'scrypt cost of the device secrets', int, 1024)
  .option('--fanout-rate <n>', 'ratePerSecond of the bulk command', int, 2500)
  .option('--hostile-seconds <s>', 'seconds of the hostile-client suite (0: skip it)', (v) => Number(v), 60)
  .option('--hostile-seed <n>', 'fast-check seed of the hostile-client suite', int)
  .option(
    '--history-devices <n>',
    'devices in the history query figure (0: skip it)',
    (v) => Number(v),
    10_000,
  )
  .option(
    '--import-devices <n>',
    'devices in one POST /api/devices/import, issue 12 (0: skip it)',
    (v) => Number(v),
    100_000,
  )
  .option('--only-import', 'run only the import figure and print it (docs/benchmarks.md untouched)')
  .option('--cluster', 'add per-node ingest and connections in cluster mode against single mode (issue 11)')
  .option('--only-cluster', 'run only the cluster figure and print it (docs/benchmarks.md untouched)')
  .option('--cluster-devices <n>', 'devices publishing in the cluster figure', int, 500)
  .option('--cluster-idle <n>', 'idle devices connected in the cluster figure', int, 2000)
  .option('--cluster-duration <s>', 'seconds of each cluster ingest run', int, 10)
  .option('--history-hours <n>', 'hours of minute rows per device in the history figure', int, 24)
  .option('--cpu-prof', 'write V8 CPU profiles of the gateway processes under tmp/bench-profiles/')
  .option('--out <file>', 'the report', 'docs/benchmarks.md')
  .parse()
  .opts();

const log = (line: string) => process.stderr.write(`${line}\n`);
const cleanup: Array<() => Promise<void> | void> = [];
async function runCleanup(): Promise<void> {
  for (const fn of cleanup.splice(0).reverse()) await Promise.resolve(fn()).catch(() => {});
}
process.once('SIGINT', () => {
  log('\ninterrupted; stopping');
  void runCleanup().then(() => process.exit(130));
});

async function main(): Promise<BenchResults> {
  const started = Date.now();
  const specs = await loadSpecs();
  const dataDir = mkdtempSync(join(tmpdir(), 'citygate-bench-'));
  cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const machine = describeMachine(dataDir);
  const cpuProfDir = o.cpuProf ? resolve('tmp/bench-profiles') : undefined;
  if (cpuProfDir) mkdirSync(cpuProfDir, { recursive: true });
  const steps = String(o.steps).split(',').map(Number);
  const settings: BenchSettings = {
    registeredDevices: o.streetlights + o.others,
    throughputDevices: o.throughputDevices,
    inflight: o.inflight,
    rounds: o.rounds,
    durationSeconds: o.duration,
    latencySeconds: o.latencyDuration,
    latencyRate: o.latencyRate,
    throughputConnectsPerSecond: o.throughputRamp,
    workers: o.workers,
    connectsPerSecond: o.ramp,
    secretCost: o.secretCost,
    connectionSteps: steps,
    fanoutRatePerSecond: o.fanoutRate,
  };
  log(
    `citygate bench on ${machine.cpu} (${machine.cores} cores), load average ${machine.loadAverageAtStart}`,
  );

  let deviceImport: BenchResults['deviceImport'];
  if (o.importDevices > 0) {
    log(`\n== bulk provisioning: ${o.importDevices} devices in one POST /api/devices/import`);
    deviceImport = await measureImport({ specs, devices: o.importDevices, log });
    log(`  ${importSummary(deviceImport)}`);
  }

  log('\n== ingest cost per reading (Normalizer.telemetry)');
  const ingestCost = measureIngestCost(specs);
  for (const c of ingestCost) log(`  ${c.model} ${c.firmware}: ${c.us.toFixed(1)} µs`);
  log('alarm rules and counter sanity per reading (in memory, 1000 devices a family):');
  for (const c of measureAlarmCost(specs)) log(`  ${c.family}: ${Math.round(c.ns)} ns`);

  log('\n== starting victoria-metrics and the gateway');
  const vm = await startVictoria();
  cleanup.push(() => stopAndRemove(vm));
  const gatewayOpts = { dataDir, influxUrl: vm.url, secretCost: o.secretCost, cpuProfDir };
  let gateway: ServerProcess = await spawnGateway(gatewayOpts);
  cleanup.push(() => gateway.stop());
  let api = new GatewayApi(gateway.httpUrl!, gateway.adminToken!);

  // Others in the city mix, proportions as CITY_MIX less the streetlights.
  const others = o.others;
  const perFamily = {
    streetlight: o.streetlights,
    electricity_meter: Math.round(others * 0.5),
    air_quality: Math.round(others * 0.3),
    water_station: others - Math.round(others * 0.5) - Math.round(others * 0.3),
  };
  const plans = cityPlans(specs, { perFamily, seed: 'bench' });
  log(`\n== registering ${plans.length} devices through POST /api/devices`);
  const regStart = Date.now();
  const devices = await provisionDevices(api, plans, {
    concurrency: 16,
    onProgress: (done, total) => done % 2500 === 0 && log(`  ${done}/${total}`),
  });
  const registration = { devices: devices.length, seconds: (Date.now() - regStart) / 1000 };
  log(`  ${devices.length} devices in ${registration.seconds.toFixed(1)} s`);

  log('\n== latency and throughput: bare Aedes against the full gateway');
  const bare = await spawnBareBroker();
  cleanup.push(() => bare.stop());
  const target = {
    devices: devices.slice(0, o.throughputDevices),
    specs,
    bare,
    gateway,
    api,
    victoriaUrl: vm.url,
    workers: o.workers,
    connectsPerSecond: o.throughputRamp,
    log,
  };
  // Latency first, while victoria-metrics is not yet busy merging what the throughput runs wrote.
  const latency = await measureLatency(target, { rate: o.latencyRate, durationSeconds: o.latencyDuration });
  log('');
  const throughput = await measureThroughput(target, {
    rounds: o.rounds,
    durationSeconds: o.duration,
    inflight: o.inflight,
  });
  log(
    `\n  ratio gateway/bare ${(throughput.ratio * 100).toFixed(0)} % (${Math.round(throughput.gateway)} / ${Math.round(
      throughput.bare,
    )} readings/s), lost ${throughput.lost}`,
  );
  await bare.stop();
  await gateway.stop();

  log('\n== connection scale: a fresh gateway process, idle devices connecting in steps');
  gateway = await spawnGateway(gatewayOpts);
  api = new GatewayApi(gateway.httpUrl!, gateway.adminToken!);
  const pool = await WorkerPool.start({
    workers: o.workers,
    mode: 'fleet',
    url: gateway.mqttUrl,
    qos: 1,
    devices,
    connectsPerSecond: o.ramp,
  });
  cleanup.push(() => pool.stop());
  const connections = await measureConnections({
    gateway,
    api,
    pool,
    steps,
    connectsPerSecond: o.ramp,
    log,
  });

  log(`\n== command fan-out: bulk setDimming to ${o.streetlights} streetlights`);
  const fanout = await measureFanout({
    api,
    pool,
    streetlights: devices.filter((d) => d.family === 'streetlight').length,
    ratePerSecond: o.fanoutRate,
    log,
  });
  await runCleanup();

  let hostile: BenchResults['hostile'];
  if (o.hostileSeconds > 0) {
    const seed = o.hostileSeed ?? Math.floor(Math.random() * 2 ** 31);
    log(`\n== hostile clients: ${o.hostileSeconds} s of generated attacks on a fresh gateway, seed ${seed}`);
    hostile = await measureHostile({ seconds: o.hostileSeconds, seed, secretCost: o.secretCost, log });
    log(`  ${hostileSummary(hostile)}`);
  }

  if (o.historyDevices > 0) {
    log(`\n== history: a device's last 24 h from the embedded rollup store, ${o.historyDevices} devices`);
    const history = await measureHistory({ devices: o.historyDevices, hours: o.historyHours });
    for (const line of historySummary(history)) log(`  ${line}`);
  }
  let cluster: BenchResults['cluster'];
  if (o.cluster) cluster = await benchCluster(specs);
  return {
    cluster,
    startedAt: new Date(started).toISOString(),
    seconds: (Date.now() - started) / 1000,
    machine,
    settings,
    registration,
    ingestCost,
    throughput,
    latency,
    connections,
    fanout,
    hostile,
    deviceImport,
  };
}

/** Issue 11: its own victoria-metrics and devices, one node in cluster mode against the single process. */
async function benchCluster(specs: Awaited<ReturnType<typeof loadSpecs>>): Promise<BenchResults['cluster']> {
  log('\n== cluster mode against single mode, per node (PostgreSQL and Redis of this machine)');
  const vm = await startVictoria();
  try {
    const devices = Math.max(o.clusterDevices, o.clusterIdle);
    const plans = cityPlans(specs, { perFamily: { electricity_meter: devices }, seed: 'bench-cluster' });
    const result = await measureCluster({
      specs,
      plans,
      devices: o.clusterDevices,
      idleDevices: o.clusterIdle,
      durationSeconds: o.clusterDuration,
      inflight: o.inflight,
      workers: o.workers,
      connectsPerSecond: o.throughputRamp,
      secretCost: o.secretCost,
      victoriaUrl: vm.url,
      log,
    });
    for (const line of clusterSummary(result)) log(`  ${line}`);
    return result;
  } finally {
    await stopAndRemove(vm);
  }
}

if (o.onlyCluster) {
  try {
    const result = await benchCluster(await loadSpecs());
    for (const line of clusterSummary(result!)) process.stdout.write(`${line}\n`);
    process.exit(0);
  } catch (err) {
    log(`\ncluster bench failed: ${(err as Error).stack ?? err}`);
    process.exit(1);
  }
}

if (o.onlyImport) {
  try {
    const result = await measureImport({
      specs: await loadSpecs(),
      devices: o.importDevices || 100_000,
      log,
    });
    process.stdout.write(`${importSummary(result)}\n`);
    process.stdout.write(
      `  ${result.seconds < 60 ? 'met ' : 'MISS'}  ${result.devices.toLocaleString('en-US')} devices imported: ${result.seconds.toFixed(1)} s (target < 60 s)\n`,
    );
    process.exit(0);
  } catch (err) {
    log(`\nimport bench failed: ${(err as Error).stack ?? err}`);
    process.exit(1);
  }
}

try {
  const results = await main();
  const out = resolve(o.out);
  const chartFile = `${basename(out, '.md')}-chart.svg`;
  const lat = (run: typeof results.latency.bare) => run.report.latencyMs ?? { p50: 0, p95: 0, p99: 0 };
  writeFileSync(
    join(dirname(out), chartFile),
    renderChart({
      throughput: {
        bare: results.throughput.bare,
        gateway: results.throughput.gateway,
        ratio: results.throughput.ratio,
      },
      latency: {
        rate: results.latency.rate,
        bare: lat(results.latency.bare),
        gateway: lat(results.latency.gateway),
      },
      rss: [
        { devices: 0, mib: results.connections.baselineRssBytes / 1024 ** 2 },
        ...results.connections.steps.map((s) => ({ devices: s.connected, mib: s.rssBytes / 1024 ** 2 })),
      ],
      rssLimitMib: 1024,
    }),
  );
  writeFileSync(out, renderMarkdown(results, chartFile));
  writeFileSync(join(dirname(out), `${basename(out, '.md')}.json`), `${JSON.stringify(results, null, 1)}\n`);
  const t = results.throughput;
  process.stdout.write(
    `\nthroughput ratio gateway/bare: ${(t.ratio * 100).toFixed(0)} % ` +
      `(full gateway ${Math.round(t.gateway)} readings/s, bare Aedes ${Math.round(t.bare)} readings/s, QoS 1)\n`,
  );
  if (results.hostile) process.stdout.write(`${hostileSummary(results.hostile)}\n`);
  for (const c of checkTargets(results))
    process.stdout.write(
      `  ${c.met === null ? 'n/a ' : c.met ? 'met ' : 'MISS'}  ${c.name}: ${c.measured} (target ${c.target})\n`,
    );
  process.stdout.write(`written ${o.out} and ${chartFile} in ${Math.round(results.seconds)} s\n`);
  process.exit(0);
} catch (err) {
  log(`\nbench failed: ${(err as Error).stack ?? err}`);
  await runCleanup();
  process.exit(1);
}
