import { SingleBar } from 'cli-progress';
import { Command, Option } from 'commander';
import { addAlarmCommands } from './alarm-commands.ts';
import { ApiClient, ApiError, parseParams } from './api-client.ts';
import { addCampaignCommands } from './campaign-commands.ts';
import { eventCommands } from './events-commands.ts';
import { addFleetCommands } from './fleet-commands.ts';
import { locateGateway } from './gateway-locator.ts';
import { historyCommand } from './history-command.ts';
import { addJsonOutput } from './json-output.ts';
import { addLightingCommands } from './lighting-commands.ts';
import { addOpsCommands } from './ops-commands.ts';

const FINAL = new Set(['succeeded', 'failed', 'timed_out', 'expired', 'cancelled']);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function table(rows: Array<Record<string, unknown>>, columns: string[]): string {
  const cell = (v: unknown) =>
    v === null || v === undefined ? '-' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => v.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [
    line(columns),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map((r) => line(columns.map((c) => cell(r[c])))),
  ].join('\n');
}

const program = new Command('citygate')
  .description(
    'citygate engineer CLI: devices, commands, bulk roll-outs and the quarantine, over the HTTP API',
  )
  .addOption(
    new Option(
      '--url <url>',
      'gateway HTTP API (default: <data dir>/http-url of a running gateway or demo, else http://127.0.0.1:8080)',
    ).env('CITYGATE_URL'),
  )
  .addOption(
    new Option('--token <token>', 'bearer token (default: <data dir>/admin-token)').env('CITYGATE_TOKEN'),
  );

const gatewayTarget = () => locateGateway(program.opts<{ url?: string; token?: string }>());

/** URL and token for the commands that open the events stream themselves. */
const gatewayAuth = () => {
  const { url, token } = gatewayTarget();
  return { url, token: token ?? '' };
};

const api = () => {
  const { url, token } = gatewayTarget();
  if (!token) throw new ApiError(0, 'CLI_ERR_NO_TOKEN', 'no token: pass --token or set CITYGATE_TOKEN');
  return new ApiClient(url, token);
};

program
  .command('devices')
  .description('list devices')
  .option('--family <family>')
  .option('--district <district>')
  .option('--ward <ward>')
  .option('--status <status>', 'online, offline or disabled')
  .option('--limit <n>', 'at most this many', '50')
  .action(async (o) => {
    const q = new URLSearchParams(Object.entries(o).filter(([, v]) => v !== undefined) as [string, string][]);
    const res = await api().get(`/api/devices?${q}`);
    console.log(
      table(res.devices, ['id', 'model', 'firmware', 'district', 'ward', 'status', 'lastReadingAt']),
    );
    console.log(`\n${res.devices.length} of ${res.total}`);
  });

program
  .command('send <deviceId> <name> [params...]')
  .description('send a command (params as key=value or one JSON object) and wait for its outcome')
  .option('--ttl <seconds>', 'give up if not sent within this time', Number)
  .option('--timeout <seconds>', 'wait this long for the device reply', Number)
  .option('--key <idempotencyKey>', 'idempotency key (actions)')
  .option('--confirm', 'confirm a guarded action (e.g. opening a relay)')
  .option('--no-wait', 'return once queued')
  .action(async (deviceId, name, params, o) => {
    const client = api();
    let cmd = await client.post(`/api/devices/${encodeURIComponent(deviceId)}/commands`, {
      name,
      params: parseParams(params),
      ttlSeconds: o.ttl,
      timeoutSeconds: o.timeout,
      idempotencyKey: o.key,
      confirm: o.confirm,
    });
    console.log(`${cmd.id} ${cmd.status}`);
    let last = cmd.status;
    while (o.wait && !FINAL.has(cmd.status)) {
      await sleep(250);
      cmd = await client.get(`/api/commands/${cmd.id}`);
      if (cmd.status !== last) {
        last = cmd.status;
        console.log(`${cmd.id} ${last}`);
      }
    }
    if (cmd.result) console.log('result:', JSON.stringify(cmd.result));
    if (cmd.error) console.log('error:', cmd.error);
    if (o.wait && cmd.status !== 'succeeded') process.exitCode = 2;
  });

program
  .command('command <id>')
  .description('show one command and its history')
  .action(async (id) => {
    const c = await api().get(`/api/commands/${encodeURIComponent(id)}`);
    console.log(
      `${c.id}  ${c.name} ${JSON.stringify(c.params)} -> ${c.deviceId}: ${c.status}${c.error ? ` (${c.error})` : ''}`,
    );
    console.log(table(c.history, ['at', 'status', 'actor', 'detail']));
  });

program
  .command('bulk <name> [params...]')
  .description('send a command to a group of devices, with live progress and a summary')
  .option('--family <family>')
  .option('--district <district>')
  .option('--ward <ward>')
  .option('--tag <tag>')
  .option('--model <model>')
  .option('--ids <ids>', 'comma-separated device ids')
  .option('--rate <perSecond>', 'roll-out rate', Number)
  .option('--timeout <seconds>', 'reply timeout per device', Number)
  .option('--confirm', 'confirm a guarded action')
  .action(async (name, params, o) => {
    const client = api();
    const selector = {
      family: o.family,
      district: o.district,
      ward: o.ward,
      tag: o.tag,
      model: o.model,
      ids: o.ids?.split(','),
    };
    const started = Date.now();
    const bulk = await client.post('/api/commands/bulk', {
      selector,
      name,
      params: parseParams(params),
      ratePerSecond: o.rate,
      timeoutSeconds: o.timeout,
      confirm: o.confirm,
    });
    console.log(
      `bulk ${bulk.id}: ${name} to ${bulk.total} devices at ${bulk.ratePerSecond}/s (${bulk.skipped.length} skipped)`,
    );
    const bar = new SingleBar({
      format:
        ' {bar} {percentage}% | {value}/{total} final | ok {succeeded} failed {failed} timed out {timed_out} | in flight {inflight}',
      hideCursor: true,
    });
    bar.start(bulk.total, 0, { succeeded: 0, failed: 0, timed_out: 0, inflight: 0 });
    let status = bulk;
    while (!status.done) {
      await sleep(250);
      status = await client.get(`/api/commands/bulk/${bulk.id}?devices=false`);
      const c = status.counts;
      const final = c.succeeded + c.failed + c.timed_out + c.expired + c.cancelled;
      bar.update(final, { ...c, inflight: c.queued + c.sent + c.delivered });
    }
    bar.stop();
    const full = await client.get(`/api/commands/bulk/${bulk.id}`);
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`\nsummary after ${secs} s:`);
    console.log(
      table(
        Object.entries(full.counts)
          .filter(([, n]) => (n as number) > 0)
          .map(([status, n]) => ({ status, devices: n })),
        ['status', 'devices'],
      ),
    );
    const bad = full.devices.filter((d: { status: string }) => d.status !== 'succeeded');
    if (bad.length) {
      console.log('\nnot succeeded:');
      console.log(table(bad.slice(0, 20), ['deviceId', 'status', 'error']));
      if (bad.length > 20) console.log(`… and ${bad.length - 20} more`);
      process.exitCode = 2;
    }
    for (const s of full.skipped.slice(0, 10)) console.log(`skipped ${s.deviceId}: ${s.reason}`);
  });

program
  .command('quarantine')
  .description('show rejected readings with their reasons')
  .option('--device <id>')
  .option('--limit <n>', 'at most this many', '20')
  .action(async (o) => {
    const q = new URLSearchParams({ limit: o.limit, ...(o.device ? { deviceId: o.device } : {}) });
    const res = await api().get(`/api/quarantine?${q}`);
    const rows = res.entries.map(
      (e: { reasons: Array<{ path: string; message: string }>; payload: string }) => ({
        ...e,
        reasons: e.reasons.map((r) => `${r.path}: ${r.message}`).join('; '),
        payload: e.payload.length > 60 ? `${e.payload.slice(0, 57)}...` : e.payload,
      }),
    );
    console.log(table(rows, ['id', 'receivedAt', 'deviceId', 'reasons', 'payload']));
    console.log(`\n${res.entries.length} shown, ${res.total} in the quarantine`);
  });

addAlarmCommands(program, api, table);
eventCommands(program, api, gatewayAuth, table);
historyCommand(program, api);
addFleetCommands(program, api, gatewayAuth, table);
addOpsCommands(program, api, table);
addLightingCommands(program, api, table);
addCampaignCommands(program, api, gatewayAuth, table);
addJsonOutput(program); // last: every command gets --json

program.parseAsync().catch((err: Error & { code?: string }) => {
  const hint =
    err instanceof ApiError && err.code === 'CLI_ERR_UNREACHABLE'
      ? ` (URL from ${gatewayTarget().from})`
      : '';
  console.error(
    `citygate: ${err instanceof ApiError && err.status ? `${err.status} ` : ''}${err.message}${hint}`,
  );
  process.exitCode = 1;
});
