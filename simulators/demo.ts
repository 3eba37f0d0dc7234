import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import mqtt from 'mqtt';
import { modbusModule } from '../adapters/modbus/modbus-module.ts';
import { loadSpecs } from '../firmware-specs/index.ts';
import { buildGateway, type GatewayModule } from '../gateway/gateway.ts';
import { createLogger } from '../gateway/logger.ts';
import { printAlarms, scaleAlarmRules } from './demo-alarms.ts';
import { Fleet } from './fleet.ts';
import { type DevicePlan, placeDevices } from './hanoi.ts';
import { GatewayApi } from './load/gateway-api.ts';
import { cityPlans, parsePerFamily } from './load/scenario.ts';
import { ModbusDeviceSimulator } from './modbus-device.ts';
import { acceleratedTime, HANOI_UTC_OFFSET_MS } from './patterns.ts';

/**
 * `npm run demo`: the gateway in-process on embedded defaults (data in ./data/demo, the local
 * archive sink unless INFLUX_URL is set) and a few dozen simulated devices over Hanoi's
 * districts, on accelerated time; prints a status line every few seconds and where to look.
 */
const num = (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('a positive number');
  return n;
};
const o = new Command('demo')
  .description('citygate with a simulated city')
  .option(
    '--per-family <list>',
    'MQTT devices per family',
    'streetlight=12,electricity_meter=12,air_quality=6,water_station=6',
  )
  .option(
    '--modbus <list>',
    'Modbus devices per family, behind one simulated RS-485 gateway',
    'electricity_meter=3,water_station=2',
  )
  .option('--accelerate <x>', 'simulated time runs this many times faster (60: an hour a minute)', num, 60)
  .option('--interval <s>', 'seconds between readings of a device', num, 5)
  .option('--status <s>', 'seconds between status lines', num, 5)
  .option('--commands <s>', 'seconds between demonstration commands (dimming, valves)', num, 20)
  .option('--duration <s>', 'stop after this many seconds (default: at Ctrl-C)', num)
  .parse()
  .opts();

const env = process.env;
const dataDir = resolve(env.CITYGATE_DATA_DIR ?? './data/demo');
const mqttHost = env.MQTT_HOST ?? '127.0.0.1';
const httpHost = env.HTTP_HOST ?? '127.0.0.1';
const say = (line = '') => process.stdout.write(`${line}\n`);

/** The wanted port if it is free, else 0 (any free port), saying so. */
async function portOr0(what: string, host: string, wanted: number): Promise<number> {
  if (wanted === 0) return 0;
  const free = await new Promise<boolean>((done) => {
    const s = createServer();
    s.once('error', () => done(false));
    s.listen(wanted, host, () => s.close(() => done(true)));
  });
  if (free) return wanted;
  say(
    `${what} port ${wanted} is taken by another process (on this machine, Mosquitto has 1883); using a free port.`,
  );
  return 0;
}

// Simulated time: an hour a minute by default.
const wallStart = Date.now();
const patternTime = acceleratedTime(o.accelerate, wallStart, wallStart);
const specs = await loadSpecs();

// Devices: registered through the API on the first run; their secrets (shown once) are kept in
// the demo's data directory with the Modbus simulator's port, so later runs reuse them all.
const stateFile = join(dataDir, 'demo-devices.json');
const saved: { secrets?: Record<string, string>; modbusPort?: number } = existsSync(stateFile)
  ? JSON.parse(readFileSync(stateFile, 'utf8'))
  : {};
const secrets = saved.secrets ?? {};

// Modbus devices: one simulated RS-485 gateway (jsmodbus TCP server), a unit per device, on the
// port the registry knows from an earlier run.
const modbusPlans = placeDevices(
  {
    perFamily: parsePerFamily(o.modbus),
    seed: 'demo-modbus',
    includeModbus: true,
    models: [...specs.values()].filter((m) => m.modbus).map((m) => m.id),
  },
  specs,
).map((p) => ({ ...p, id: `mb-${p.id}` }));
const modbusSim = new ModbusDeviceSimulator({
  units: modbusPlans.map((p, i) => ({ unitId: i + 1, spec: specs.get(p.model)!, seed: p.id })),
  host: '127.0.0.1',
  port: saved.modbusPort ?? 0,
  patternTime,
});
let modbusPort: number | undefined;
if (modbusPlans.length) {
  modbusPort = await modbusSim.start().catch((err: Error) => {
    say(
      `Modbus simulator could not listen on ${saved.modbusPort}: ${err.message}; Modbus devices stay offline.`,
    );
    return undefined;
  });
}

// ---- PLUG-IN: gateway modules ----------------------------------------------------------------
// The command service is part of every gateway; the Modbus adapter joins as in gateway/main.ts.
// Further adapters join here.
const modules: GatewayModule[] = [modbusModule({ pollIntervalMs: o.interval * 1000 })];
// ----------------------------------------------------------------------------------------------

const gateway = buildGateway({
  log: createLogger(env.LOG_LEVEL ?? 'warn'),
  specs,
  printAdminToken: false,
  modules,
  config: {
    // The whole simulated city connects from this one address: per-address auth limits would
    // refuse its start-up burst (CONNACK 3). The environment may still set them.
    AUTH_PENDING_PER_ADDRESS: 1_000_000,
    AUTH_SCRYPT_QUEUE: 1_000_000,
    ...env,
    CITYGATE_DATA_DIR: dataDir,
    MQTT_HOST: mqttHost,
    HTTP_HOST: httpHost,
    MQTT_PORT: await portOr0('MQTT', mqttHost, Number(env.MQTT_PORT ?? 1883)),
    HTTP_PORT: await portOr0('HTTP', httpHost, Number(env.HTTP_PORT ?? 8080)),
    LOG_LEVEL: env.LOG_LEVEL ?? 'warn',
  },
});
await gateway.start();
const httpUrl = `http://${httpHost}:${gateway.httpPort}`;
const mqttUrl = `mqtt://${mqttHost}:${gateway.mqttPort}`;
const api = new GatewayApi(httpUrl, gateway.adminToken);

const register = (plan: DevicePlan, modbus?: { host: string; port: number; unitId: number }) =>
  api.register(plan, modbus);
const plans = cityPlans(specs, { perFamily: parsePerFamily(o.perFamily), seed: 'demo' });
let registered = 0;
const usable: DevicePlan[] = [];
for (const plan of plans) {
  if (!gateway.ctx.devices.get(plan.id)) {
    secrets[plan.id] = (await register(plan))!;
    registered++;
  }
  if (secrets[plan.id]) usable.push(plan);
  else say(`  ${plan.id} is registered but its secret is not in ${stateFile}: left out`);
}
if (modbusPort !== undefined) {
  for (const [i, plan] of modbusPlans.entries()) {
    if (gateway.ctx.devices.get(plan.id)) continue;
    await register(plan, { host: '127.0.0.1', port: modbusPort, unitId: i + 1 });
    registered++;
  }
}
writeFileSync(stateFile, JSON.stringify({ secrets, modbusPort: modbusPort ?? saved.modbusPort }, null, 1), {
  mode: 0o600,
});
const total = usable.length + modbusPlans.length;
say(`${total} simulated devices (${registered} registered now, ${total - registered} reused)`);

// One malformed reading, so that the quarantine has something to show.
const sample = usable[0];
if (sample) {
  const client = await mqtt.connectAsync(mqttUrl, {
    clientId: sample.id,
    username: sample.id,
    password: secrets[sample.id],
    protocolVersion: 4,
    reconnectPeriod: 0,
  });
  await client.publishAsync(
    `devices/${sample.id}/telemetry`,
    JSON.stringify({ reading: 'garbled by a loose RS-485 wire', ts: 'not a time' }),
    { qos: 1 },
  );
  await client.endAsync();
}

const fleet = new Fleet({
  url: mqttUrl,
  plans: usable,
  specs,
  secrets,
  connectsPerSecond: 50,
  // Demo faults now and then, so alarms open and clear while it runs.
  device: { qos: 1, intervalMs: o.interval * 1000, patternTime, faults: true },
});

// Alarms: rules scaled to the accelerated time, and every transition printed as it happens.
const hanoiTime = () => new Date(patternTime(Date.now()) + HANOI_UTC_OFFSET_MS).toISOString().slice(11, 16);
const scaled = await scaleAlarmRules(api, specs, o.accelerate);
if (scaled.failed) say(`alarms: rule delays not scaled to ${o.accelerate}x time (${scaled.failed})`);
const stopAlarmPrints = printAlarms(gateway.ctx.events, say, hanoiTime);
const fleetStarted = fleet.start();

say(`
citygate demo: a simulated Hanoi on ${o.accelerate}x time
  dashboard    ${httpUrl}/
  sign-in link ${httpUrl}/#token=${encodeURIComponent(gateway.adminToken)}
  HTTP API     ${httpUrl}
  devices      ${httpUrl}/api/devices
  quarantine   ${httpUrl}/api/quarantine
  counters     ${httpUrl}/api/stats
  metrics      ${httpUrl}/metrics
  OpenAPI      ${httpUrl}/api/openapi.json
  MQTT         ${mqttUrl}
  Modbus       ${modbusPort === undefined ? 'none' : `${modbusPlans.length} units behind 127.0.0.1:${modbusPort}`}
  admin token  ${gateway.adminToken}
  sink         ${gateway.ctx.sinkName}${gateway.config.INFLUX_URL ? ` (${gateway.config.INFLUX_URL})` : ` (${join(dataDir, 'archive')})`}
  e.g. curl -H 'authorization: Bearer ${gateway.adminToken}' ${httpUrl}/api/quarantine
Ctrl-C stops.
`);

const hanoiClock = (ms: number) =>
  new Date(ms + HANOI_UTC_OFFSET_MS).toISOString().slice(0, 16).replace('T', ' ');
const status = setInterval(async () => {
  try {
    const s = await api.stats();
    const c = fleet.counters();
    const modbusOnline = modbusPlans.filter((p) => gateway.ctx.devices.get(p.id)?.online).length;
    say(
      `[${new Date().toISOString().slice(11, 19)}] Hanoi ${hanoiClock(patternTime(Date.now()))} | ` +
        `online ${c.online}/${c.devices} MQTT, ${modbusOnline}/${modbusPlans.length} Modbus | ` +
        `readings received ${s.received} accepted ${s.accepted} quarantined ${s.quarantined} written ${s.written} | ` +
        `outbox ${s.buffered}`,
    );
  } catch (err) {
    say(`status: ${(err as Error).message}`);
  }
}, o.status * 1000);

// Commands round-tripping: an engineer dims the city's streetlights in one bulk command,
// then moves a valve of a Modbus pump station; each outcome is printed when it is final.
const FINAL = new Set(['succeeded', 'failed', 'timed_out', 'expired', 'cancelled']);
const lamps = usable.filter((p) => p.family === 'streetlight').length;
const stations = modbusPlans.filter((p) => p.family === 'water_station');
let round = 0;
async function demonstrateCommands(): Promise<void> {
  round++;
  if (round % 2 === 1 && lamps > 0) {
    const level = [30, 60, 100][Math.floor(round / 2) % 3];
    const started = Date.now();
    const res = await api.call<{ id: string; total: number }>('POST', '/api/commands/bulk', {
      selector: { family: 'streetlight' },
      name: 'setDimming',
      params: { level },
      timeoutSeconds: 10,
    });
    if (res.status !== 202) {
      say(`command: bulk dimming refused: ${JSON.stringify(res.body)}`);
      return;
    }
    let bulk: { done: boolean; counts: Record<string, number> } = { done: false, counts: {} };
    while (!bulk.done && Date.now() - started < 30_000) {
      await new Promise((r) => setTimeout(r, 250));
      bulk = (await api.call('GET', `/api/commands/bulk/${res.body.id}?devices=false`)).body;
    }
    const counts = Object.entries(bulk.counts)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${n} ${k}`)
      .join(', ');
    say(
      `command: bulk dimming of the city's ${res.body.total} streetlights to ${level}% -> ${counts} in ${Date.now() - started} ms`,
    );
    return;
  }
  const station = stations[Math.floor(round / 2) % Math.max(1, stations.length)];
  if (!station) return;
  const percent = [25, 80][round % 2];
  const res = await api.call<{ id: string; message?: string }>(
    'POST',
    `/api/devices/${station.id}/commands`,
    {
      name: 'setValve',
      params: { percent },
    },
  );
  if (res.status !== 201) {
    say(`command: valve of ${station.id} refused: ${res.body.message ?? res.status}`);
    return;
  }
  let c: { status: string; error?: string } = { status: 'queued' };
  const started = Date.now();
  while (!FINAL.has(c.status) && Date.now() - started < 30_000) {
    await new Promise((r) => setTimeout(r, 250));
    c = (await api.call('GET', `/api/commands/${res.body.id}`)).body;
  }
  say(
    `command: valve of ${station.id} (Modbus) to ${percent}% -> ${c.status}${c.error ? ` (${c.error})` : ''}`,
  );
}
let commanding = false;
const commandTimer = setInterval(() => {
  if (commanding) return;
  commanding = true;
  demonstrateCommands()
    .catch((err: Error) => say(`command: ${err.message}`))
    .finally(() => {
      commanding = false;
    });
}, o.commands * 1000);

let stoppingSince = 0;
async function stop(signal: string): Promise<void> {
  if (stoppingSince) {
    // tsx passes the terminal's Ctrl-C on as well, so one press arrives twice: only a later
    // press forces the exit.
    if (Date.now() - stoppingSince < 2000) return;
    say('forced exit');
    process.exit(1);
  }
  stoppingSince = Date.now();
  say(`\n${signal}: stopping the devices and the gateway`);
  clearInterval(status);
  clearInterval(commandTimer);
  stopAlarmPrints();
  setTimeout(() => process.exit(1), 15_000).unref();
  await fleet.stop();
  await fleetStarted.catch(() => {});
  await gateway.stop();
  await modbusSim.stop();
  say('stopped');
  process.exit(0);
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
if (o.duration) setTimeout(() => void stop(`${o.duration} s passed`), o.duration * 1000);
