import { readFileSync, writeFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { type ApiClient, ApiError } from './api-client.ts';

type Table = (rows: Array<Record<string, unknown>>, columns: string[]) => string;

interface DeviceView {
  id: string;
  model: string;
  family: string;
  firmware: string;
  district: string;
  ward: string;
  lat: number | null;
  lon: number | null;
  tags: string[];
  status: string;
  modbus: { host: string; port: number; unitId: number } | null;
  decommissionedAt?: string | null;
}

const number = (v: string) => {
  const x = Number(v);
  if (!Number.isFinite(x)) throw new InvalidArgumentError('a number');
  return x;
};
const nonNegativeInt = (v: string) => {
  const x = Number(v);
  if (!Number.isInteger(x) || x < 0) throw new InvalidArgumentError('a whole number of seconds');
  return x;
};
const modbusEndpoint = (v: string) => {
  const m = /^([^:]+)(?::(\d+))?(?::(\d+))?$/.exec(v);
  if (!m) throw new InvalidArgumentError('host[:port[:unit]]');
  return { host: m[1], port: m[2] ? Number(m[2]) : 502, unitId: m[3] ? Number(m[3]) : 1 };
};
const list = (v: string) =>
  v
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
const path = (id: string) => `/api/devices/${encodeURIComponent(id)}`;

/** Two or three readable lines about a device. */
function deviceSummary(d: DeviceView): string {
  const where = d.lat === null || d.lon === null ? '' : ` (${d.lat}, ${d.lon})`;
  const link = d.modbus ? `modbus ${d.modbus.host}:${d.modbus.port} unit ${d.modbus.unitId}` : 'mqtt';
  const state = d.decommissionedAt ? `decommissioned ${d.decommissionedAt}` : d.status;
  return [
    `${d.id}  ${d.model} (${d.family}) firmware ${d.firmware}, ${state}`,
    `  ${d.district} / ${d.ward}${where}, ${link}${d.tags.length ? `, tags ${d.tags.join(', ')}` : ''}`,
  ].join('\n');
}

/** Writes the installers' secrets where only the owner can read them; never over an existing file. */
function writeSecrets(file: string, csv: string): void {
  try {
    writeFileSync(file, csv, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST')
      throw new ApiError(0, 'CLI_ERR_EXISTS', `${file} exists: the secrets are not written over it`);
    throw err;
  }
}

/** `--json` on the command or, when another part of the CLI gives one, on the program. */
const wantsJson = (cmd: Command) => Boolean(cmd.optsWithGlobals().json);
const printJson = (value: unknown) => console.log(JSON.stringify(value, null, 2));

/**
 * Fleet operations (issue 12): register, import, update, decommission, rotate, audit. Each prints
 * a readable view, or the API's JSON with --json.
 */
export function addFleetCommands(
  program: Command,
  api: () => ApiClient,
  auth: () => { url: string; token: string },
  table: Table,
): void {
  program
    .command('register <id>')
    .description('register one device; prints its MQTT secret (shown this once)')
    .requiredOption('--model <model>', 'a model id, as `citygate models` lists them')
    .requiredOption('--firmware <version>', 'e.g. 1.4.2')
    .requiredOption('--district <district>')
    .requiredOption('--ward <ward>')
    .option('--lat <lat>', 'latitude', number)
    .option('--lon <lon>', 'longitude', number)
    .option('--tags <tags>', 'comma-separated', list)
    .option('--modbus <host:port:unit>', 'the Modbus endpoint of a Modbus model', modbusEndpoint)
    .option('--json', 'print the API answer as JSON')
    .action(async (id, o, cmd: Command) => {
      const { json: _json, ...body } = o;
      const res = await api().post('/api/devices', { id, ...body });
      if (wantsJson(cmd)) return printJson(res);
      console.log(deviceSummary(res));
      console.log(
        res.secret ? `secret: ${res.secret}  (shown once; only its hash is kept)` : 'no MQTT secret (Modbus)',
      );
    });

  program
    .command('import <file>')
    .description('register many devices from a CSV or NDJSON file, all or nothing (or --partial)')
    .option('--partial', 'import the valid rows and report the others')
    .option('--format <format>', 'csv or ndjson (default: by the file extension)')
    .option('--secrets-out <file>', 'where the new secrets go (mode 0600; default: <file>.secrets.csv)')
    .option('--json', 'print the API answer as JSON (the secrets stay in the file)')
    .action(async (file: string, o, cmd: Command) => {
      const ext = extname(file).toLowerCase();
      const format = o.format ?? (ext === '.ndjson' || ext === '.jsonl' ? 'ndjson' : 'csv');
      if (format !== 'csv' && format !== 'ndjson')
        throw new ApiError(0, 'CLI_ERR_FORMAT', `--format ${format}: csv or ndjson`);
      const secretsOut = o.secretsOut ?? `${basename(file, extname(file))}.secrets.csv`;
      const { url, token } = auth();
      const res = await fetch(
        `${url.replace(/\/$/, '')}/api/devices/import${o.partial ? '?partial=true' : ''}`,
        {
          method: 'POST',
          headers: {
            authorization: `Bearer ${token}`,
            'content-type': format === 'csv' ? 'text/csv' : 'application/x-ndjson',
          },
          body: readFileSync(file),
          signal: AbortSignal.timeout(300_000),
        },
      ).catch((err: Error) => {
        throw new ApiError(0, 'CLI_ERR_UNREACHABLE', `cannot reach ${url}: ${err.cause ?? err.message}`);
      });
      const body = await res.json().catch(() => ({ message: res.statusText }));
      const errors: Array<{ line: number; field: string; message: string }> = body.errors ?? [];
      const imported = res.status < 300;
      if (imported && body.imported > 0) writeSecrets(secretsOut, body.secretsCsv);
      if (wantsJson(cmd)) {
        const { secretsCsv: _secrets, ...rest } = body;
        printJson({ ...rest, ...(imported && body.imported > 0 && { secretsFile: secretsOut }) });
      } else {
        if (errors.length) {
          console.log(table(errors.slice(0, 50), ['line', 'field', 'message']));
          if (errors.length > 50 || body.errorsTruncated) console.log(`… and more (${errors.length} listed)`);
          console.log('');
        }
        if (imported) {
          console.log(`imported ${body.imported} devices, rejected ${body.rejected}`);
          if (body.imported > 0) console.log(`secrets written to ${secretsOut} (mode 0600; shown once)`);
        } else console.log(`citygate: ${res.status} ${body.message}`);
      }
      if (!imported || errors.length) process.exitCode = imported ? 2 : 1;
    });

  program
    .command('update <id>')
    .description('change a device: firmware, location, district, ward, tags (audited)')
    .option('--firmware <version>')
    .option('--lat <lat>', 'latitude', number)
    .option('--lon <lon>', 'longitude', number)
    .option('--district <district>')
    .option('--ward <ward>')
    .option('--tags <tags>', 'comma-separated; replaces the tags (empty string: none)', (v) =>
      v === '' ? [] : list(v),
    )
    .option('--json', 'print the API answer as JSON')
    .action(async (id, o, cmd: Command) => {
      const { json: _json, ...patch } = o;
      if (Object.keys(patch).length === 0)
        throw new ApiError(
          0,
          'CLI_ERR_NOTHING',
          'nothing to change: give --firmware, --lat, --lon, --district, --ward or --tags',
        );
      const d = await api().request('PATCH', path(id), patch);
      if (wantsJson(cmd)) return printJson(d);
      console.log(deviceSummary(d));
    });

  program
    .command('decommission <id>')
    .description(
      'retire a device for good: it cannot connect, its history and audit stay, its id is not reused',
    )
    .option('--reason <text>', 'why, for the audit')
    .option('--json', 'print the API answer as JSON')
    .action(async (id, o, cmd: Command) => {
      const d = await api().post(`${path(id)}/decommission`, o.reason ? { reason: o.reason } : {});
      if (wantsJson(cmd)) return printJson(d);
      console.log(deviceSummary(d));
    });

  program
    .command('rotate <id>')
    .description('give a device a new MQTT secret; the old one works for --grace seconds more')
    .option(
      '--grace <seconds>',
      'how long the old secret still works (0 closes its session now)',
      nonNegativeInt,
      0,
    )
    .option('--json', 'print the API answer as JSON')
    .action(async (id, o, cmd: Command) => {
      const res = await api().post(`${path(id)}/rotate-secret`, { graceSeconds: o.grace });
      if (wantsJson(cmd)) return printJson(res);
      console.log(`${res.id}: new secret ${res.secret}  (shown once; only its hash is kept)`);
      console.log(
        res.previousValidUntil
          ? `the old secret works until ${res.previousValidUntil}`
          : 'the old secret no longer works',
      );
    });

  program
    .command('audit')
    .description('who did what to which device, newest first')
    .option('--device <id>')
    .option('--actor <name>', 'the token name that acted')
    .option('--action <action>', 'e.g. device.firmware, device.decommission, device.rotate_secret')
    .option('--since <time>', 'ISO 8601 with a zone')
    .option('--until <time>', 'ISO 8601 with a zone')
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'print the API answer as JSON')
    .action(async (o, cmd: Command) => {
      const { json: _json, ...filter } = o;
      const q = new URLSearchParams(
        Object.entries(filter).filter(([, v]) => v !== undefined) as [string, string][],
      );
      const res = await api().get(`/api/audit?${q}`);
      if (wantsJson(cmd)) return printJson(res);
      const rows = res.entries.map((e: { detail: unknown }) => ({
        ...e,
        detail: e.detail === null ? null : JSON.stringify(e.detail),
      }));
      console.log(table(rows, ['at', 'actor', 'action', 'subject', 'detail']));
      console.log(`\n${res.entries.length} of ${res.total}`);
    });
}
