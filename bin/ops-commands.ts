import type { Command } from 'commander';
import type { ApiClient } from './api-client.ts';

type Table = (rows: Array<Record<string, unknown>>, columns: string[]) => string;

const json = (v: unknown) => console.log(JSON.stringify(v, null, 2));
const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
const path = (id: string) => encodeURIComponent(id);

interface FieldFormat {
  unit: string;
  decimals?: number;
}

/** `27.1 °C`, `true`; a field the model does not declare is shown as it is. */
function withUnit(value: unknown, format: FieldFormat | undefined): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'object') return JSON.stringify(value);
  return format?.unit ? `${value} ${format.unit}` : String(value);
}

interface ParamSchema {
  type?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  enum?: unknown[];
  unit?: string;
  description?: string;
}

/** One command parameter from its JSON Schema: `integer 0..100 %`, `boolean`, `one of a, b`. */
function describeParam(p: ParamSchema): string {
  const parts: string[] = [];
  if (p.enum) parts.push(`one of ${p.enum.join(', ')}`);
  else if (p.type) parts.push(p.type);
  const min = p.minimum ?? p.exclusiveMinimum;
  const max = p.maximum ?? p.exclusiveMaximum;
  if (min !== undefined || max !== undefined) parts.push(`${min ?? ''}..${max ?? ''}`);
  if (p.unit) parts.push(p.unit);
  if (p.description) parts.push(`(${p.description})`);
  return parts.join(' ');
}

/**
 * Operations commands (issue 12): tokens, stats, dead letters, cancel, models with their command
 * parameters, and a readable view of one device. Each takes `--json` for the API's own answer.
 */
export function addOpsCommands(program: Command, api: () => ApiClient, table: Table): void {
  const tokens = program
    .command('tokens')
    .description('API tokens: list, create with a role, revoke (admin)');
  tokens
    .command('list', { isDefault: true })
    .description('every token, revoked ones too (never the secret)')
    .option('--json', 'print the API answer')
    .action(async (o) => {
      const res = await api().get('/api/tokens');
      if (o.json) return json(res);
      const rows = res.tokens.map((t: Record<string, unknown>) => ({
        ...t,
        createdAt: new Date(t.createdAt as number).toISOString(),
        revokedAt: t.revokedAt ? new Date(t.revokedAt as number).toISOString() : null,
        bootstrap: t.bootstrap ? 'yes' : null,
      }));
      console.log(table(rows, ['id', 'name', 'role', 'createdBy', 'createdAt', 'revokedAt', 'bootstrap']));
    });
  tokens
    .command('create <name>')
    .description('a new token; its secret is shown once')
    .requiredOption('--role <role>', 'viewer, operator or admin')
    .option('--json', 'print the API answer')
    .action(async (name, o) => {
      const t = await api().post('/api/tokens', { name, role: o.role });
      if (o.json) return json(t);
      console.log(`token ${t.id} "${t.name}" (${t.role}); the secret, shown once:\n  ${t.token}`);
    });
  tokens
    .command('revoke <id>')
    .description('revoke a token now')
    .option('--json', 'print the API answer')
    .action(async (id, o) => {
      await api().delete(`/api/tokens/${path(id)}`);
      if (o.json) return json({ id, revoked: true });
      console.log(`token ${id} revoked`);
    });

  program
    .command('stats')
    .description('gateway counters: readings, outbox, devices, the sink and its errors')
    .option('--json', 'print the API answer')
    .action(async (o) => {
      const s = await api().get('/api/stats');
      if (o.json) return json(s);
      const { sink, ...counters } = s;
      const rows = Object.entries(counters).map(([counter, value]) => ({ counter, value }));
      console.log(table(rows, ['counter', 'value']));
      console.log(
        `\nsink ${sink.name}: ${sink.up ? 'up' : 'DOWN'}${sink.lastError ? `, failing: ${sink.lastError}` : ''}`,
      );
      if (sink.pastError)
        console.log(
          `  last failure ${sink.pastError.at} to ${sink.pastError.recoveredAt}: ${sink.pastError.message}`,
        );
    });

  program
    .command('dead-letters')
    .description('lines the database refused as malformed, kept with its reason')
    .option('--limit <n>', 'at most this many', '20')
    .option('--json', 'print the API answer')
    .action(async (o) => {
      const res = await api().get(`/api/sink/dead-letters?limit=${encodeURIComponent(o.limit)}`);
      if (o.json) return json(res);
      const rows = res.entries.map((e: { line: string; reason: string }) => ({
        ...e,
        line: clip(e.line, 60),
        reason: clip(e.reason, 60),
      }));
      console.log(table(rows, ['id', 'at', 'reason', 'line']));
      console.log(`\n${res.entries.length} shown, ${res.total} dead letters`);
    });

  program
    .command('cancel <commandId>')
    .description('cancel a queued command (operator)')
    .option('--json', 'print the API answer')
    .action(async (id, o) => {
      const c = await api().post(`/api/commands/${path(id)}/cancel`);
      if (o.json) return json(c);
      console.log(`${c.id} ${c.name} -> ${c.deviceId}: ${c.status}`);
    });

  program
    .command('models [id]')
    .description('device models; with an id, its fields with units and its commands with their parameters')
    .option('--json', 'print the API answer')
    .action(async (id, o) => {
      if (id) return showModel(await api().get(`/api/models/${path(id)}`), o.json, table);
      const res = await api().get('/api/models');
      if (o.json) return json(res);
      const rows = res.models.map(
        (m: {
          id: string;
          family: string;
          vendor: string;
          model: string;
          firmware: Array<{ version: string }>;
          commands: Array<{ name: string }>;
          modbus: unknown;
        }) => ({
          id: m.id,
          family: m.family,
          vendor: `${m.vendor} ${m.model}`,
          firmware: m.firmware.map((f) => f.version).join(' '),
          commands: m.commands.map((c) => c.name).join(' '),
          protocol: m.modbus ? 'modbus' : 'mqtt',
        }),
      );
      console.log(table(rows, ['id', 'family', 'vendor', 'firmware', 'commands', 'protocol']));
    });

  program
    .command('device <id>')
    .description('one device: identity, last reading with units, reported vs desired state, recent commands')
    .option('--commands <n>', 'recent commands shown', '5')
    .option('--json', 'print the API answer')
    .action(async (id, o) => {
      const client = api();
      const d = await client.get(`/api/devices/${path(id)}`);
      if (o.json) return json(d);
      const [model, recent] = await Promise.all([
        client.get(`/api/models/${path(d.model)}`).catch(() => null),
        client.get(`/api/devices/${path(id)}/commands?limit=${encodeURIComponent(o.commands)}`),
      ]);
      const units: Record<string, FieldFormat> = model?.fields ?? {};
      console.log(`${d.id}  ${d.status}${d.enabled ? '' : ' (disabled)'}`);
      console.log(`  model     ${d.model} (${d.family}), firmware ${d.firmware}`);
      console.log(`  place     ${d.district}, ${d.ward}${d.lat != null ? ` at ${d.lat}, ${d.lon}` : ''}`);
      if (d.tags?.length) console.log(`  tags      ${d.tags.join(', ')}`);
      if (d.modbus) console.log(`  modbus    ${d.modbus.host}:${d.modbus.port} unit ${d.modbus.unitId}`);
      console.log(`  last seen ${d.lastSeenAt ?? 'never'}`);
      console.log(`\nlast reading${d.lastReadingAt ? ` at ${d.lastReadingAt}` : ': none yet'}`);
      if (d.lastReading)
        console.log(
          table(
            Object.entries(d.lastReading).map(([field, v]) => ({ field, value: withUnit(v, units[field]) })),
            ['field', 'value'],
          ),
        );
      const reported: Record<string, unknown> = d.reportedState ?? {};
      const { version, ...desired }: Record<string, unknown> = d.desiredState ?? {};
      const fields = [...new Set([...Object.keys(reported), ...Object.keys(desired)])];
      console.log(`\nstate${version !== undefined ? ` (desired version ${version})` : ''}`);
      if (fields.length === 0) console.log('  none reported or desired');
      else
        console.log(
          table(
            fields.map((field) => ({
              field,
              reported: withUnit(reported[field], units[field]),
              desired: field in desired ? withUnit(desired[field], units[field]) : '-',
              '': field in desired && desired[field] !== reported[field] ? 'differs' : '',
            })),
            ['field', 'reported', 'desired', ''],
          ),
        );
      console.log('\nrecent commands');
      if (recent.commands.length === 0) console.log('  none');
      else
        console.log(
          table(
            recent.commands.map((c: Record<string, unknown>) => ({
              ...c,
              params: JSON.stringify(c.params),
            })),
            ['id', 'createdAt', 'name', 'params', 'status', 'requestedBy', 'error'],
          ),
        );
    });
}

interface ModelAnswer {
  id: string;
  family: string;
  vendor: string;
  model: string;
  description: string | null;
  fields: Record<string, FieldFormat>;
  firmware: Array<{ version: string }>;
  commands: Array<{
    name: string;
    mode: string;
    description: string | null;
    params: { properties?: Record<string, ParamSchema>; required?: string[] };
    guards: { minIntervalSeconds: number | null; needsConfirm: boolean };
  }>;
}

function showModel(m: ModelAnswer, asJson: boolean, table: Table): void {
  if (asJson) {
    json(m);
    return;
  }
  console.log(`${m.id}: ${m.vendor} ${m.model} (${m.family})${m.description ? `\n  ${m.description}` : ''}`);
  console.log(`  firmware ${m.firmware.map((f) => f.version).join(', ')}`);
  console.log('\nfields');
  console.log(
    table(
      Object.entries(m.fields).map(([field, f]) => ({ field, unit: f.unit || null, decimals: f.decimals })),
      ['field', 'unit', 'decimals'],
    ),
  );
  console.log('\ncommands');
  for (const c of m.commands) {
    const guards = [
      c.guards.needsConfirm ? 'needs --confirm for some values' : '',
      c.guards.minIntervalSeconds ? `at most once per ${c.guards.minIntervalSeconds} s` : '',
    ].filter(Boolean);
    console.log(`  ${c.name} (${c.mode})${c.description ? `: ${c.description}` : ''}`);
    if (guards.length) console.log(`    ${guards.join('; ')}`);
    const required = new Set(c.params.required ?? []);
    const params = Object.entries(c.params.properties ?? {});
    if (params.length === 0) console.log('    no parameters');
    for (const [name, p] of params)
      console.log(`    ${name}${required.has(name) ? '' : '?'}  ${describeParam(p)}`);
  }
}
