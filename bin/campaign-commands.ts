import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { MultiBar, Presets } from 'cli-progress';
import type { Command } from 'commander';
import { type ApiClient, ApiError } from './api-client.ts';

type Table = (rows: Array<Record<string, unknown>>, columns: string[]) => string;
type Connection = () => { url: string; token: string };

interface GroupView {
  group: number;
  size: number;
  status: string;
  pending: number;
  in_progress: number;
  succeeded: number;
  failed: number;
  cancelled: number;
}
interface CampaignView {
  id: string;
  name: string;
  status: string;
  reason: string | null;
  model: string | null;
  version: string | null;
  total: Omit<GroupView, 'group' | 'status'>;
  groups: GroupView[];
}

const FINAL = new Set(['succeeded', 'stopped', 'aborted']);
const print = (json: boolean | undefined, body: unknown, text: () => string) =>
  console.log(json ? JSON.stringify(body, null, 2) : text());

function describe(c: CampaignView, table: Table): string {
  const t = c.total;
  return [
    `${c.id}  ${c.name}  ${c.model ?? '?'} → ${c.version ?? '?'}  ${c.status}${c.reason ? `: ${c.reason}` : ''}`,
    `${t.succeeded} of ${t.size} updated, ${t.failed} failed, ${t.in_progress} updating, ${t.pending} waiting, ${t.cancelled} cancelled`,
    '',
    table(c.groups as unknown as Array<Record<string, unknown>>, [
      'group',
      'size',
      'status',
      'succeeded',
      'failed',
      'in_progress',
      'pending',
      'cancelled',
    ]),
  ].join('\n');
}

/** Reads GET /api/events?types=campaign and calls back with each campaign event until told to stop. */
async function followCampaignEvents(
  conn: { url: string; token: string },
  onEvent: (e: CampaignView & { campaignId: string }) => boolean,
): Promise<void> {
  const res = await fetch(`${conn.url.replace(/\/$/, '')}/api/events?types=campaign`, {
    headers: { authorization: `Bearer ${conn.token}`, accept: 'text/event-stream' },
  });
  if (!res.ok || !res.body) throw new ApiError(res.status, 'HTTP', `events: ${res.status} ${res.statusText}`);
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block
        .split('\n')
        .filter((l) => l.startsWith('data: '))
        .map((l) => l.slice(6))
        .join('');
      if (!block.includes('event: campaign') || !data) continue;
      if (!onEvent(JSON.parse(data))) {
        await res.body.cancel().catch(() => undefined);
        return;
      }
    }
  }
}

/** `citygate firmware add|list|delete` and `citygate campaigns create|list|show|pause|resume|abort|watch` (issue 12). */
export function addCampaignCommands(
  program: Command,
  api: () => ApiClient,
  conn: Connection,
  table: Table,
): void {
  const firmware = program.command('firmware').description('firmware images for campaigns');
  firmware
    .command('add <file>')
    .description('upload a firmware image (admin); its sha256 is computed here and checked by the gateway')
    .requiredOption('--version <version>', 'the version the image installs, e.g. 3.0.0')
    .requiredOption('--model <model>', 'the model it is for, e.g. lumina-slc300')
    .requiredOption('--from <versions>', 'versions or ranges it upgrades from, comma-separated, e.g. 2.x')
    .option('--json', 'print JSON')
    .action(async (file: string, o) => {
      const size = statSync(file).size;
      const image = readFileSync(file);
      const sha256 = createHash('sha256').update(image).digest('hex');
      const { url, token } = conn();
      const q = new URLSearchParams({
        model: o.model,
        version: o.version,
        from: o.from,
        sha256,
        name: basename(file),
      });
      const res = await fetch(`${url.replace(/\/$/, '')}/api/firmware?${q}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
        body: new Uint8Array(image),
      }).catch((err: Error) => {
        throw new ApiError(0, 'CLI_ERR_UNREACHABLE', `cannot reach ${url}: ${err.cause ?? err.message}`);
      });
      const body = (await res.json().catch(() => null)) as any;
      if (!res.ok) throw new ApiError(res.status, body?.code ?? 'HTTP', body?.message ?? res.statusText);
      print(
        o.json,
        body,
        () =>
          `${body.id}  ${body.model} ${body.version} (from ${body.fromVersions.join(', ')}), ${size} bytes, sha256 ${body.sha256}`,
      );
    });
  firmware
    .command('list')
    .description('firmware images')
    .option('--model <model>')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const res = await api().get(`/api/firmware${o.model ? `?model=${encodeURIComponent(o.model)}` : ''}`);
      print(o.json, res, () =>
        table(
          res.artifacts.map((a: any) => ({ ...a, from: a.fromVersions.join(',') })),
          ['id', 'model', 'version', 'from', 'size', 'sha256', 'createdAt', 'createdBy'],
        ),
      );
    });
  firmware
    .command('delete <id>')
    .description('delete a firmware image no running campaign uses (admin)')
    .option('--json', 'print JSON')
    .action(async (id: string, o) => {
      await api().request('DELETE', `/api/firmware/${encodeURIComponent(id)}`);
      print(o.json, { id, deleted: true }, () => `${id} deleted`);
    });

  const campaigns = program.command('campaigns').description('firmware campaigns');
  const list = (n: string) => n.split(',').map((s) => Number(s.trim()));
  campaigns
    .command('create')
    .description('start a campaign (admin): devices of the image model on a version it upgrades from')
    .requiredOption('--artifact <id>', 'firmware image id (citygate firmware list)')
    .requiredOption('--name <name>')
    .option('--family <family>')
    .option('--model <model>')
    .option('--district <district>')
    .option('--ward <ward>')
    .option('--firmware <version>', 'current version or range, e.g. 2.x')
    .option('--sizes <n,n,...>', 'devices per group; the rest make a last group')
    .option('--percent <p,p,...>', 'percentages per group, adding up to 100', '10,30,60')
    .option('--success <percent>', 'success threshold of a group before the next starts', '95')
    .option('--error <percent>', 'error threshold of a group past which the campaign stops', '5')
    .option('--concurrency <n>', 'devices updating at once', '50')
    .option('--timeout <seconds>', 'time a device has to update', '900')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const selector = Object.fromEntries(
        ['family', 'model', 'district', 'ward', 'firmware']
          .filter((k) => o[k] !== undefined)
          .map((k) => [k, o[k]]),
      );
      const c = await api().post<CampaignView>('/api/campaigns', {
        name: o.name,
        artifactId: o.artifact,
        selector,
        groups: o.sizes ? { sizes: list(o.sizes) } : { percentages: list(o.percent) },
        successThreshold: Number(o.success),
        errorThreshold: Number(o.error),
        concurrency: Number(o.concurrency),
        timeoutSeconds: Number(o.timeout),
      });
      print(o.json, c, () => `${describe(c, table)}\n\nfollow it: citygate campaigns watch ${c.id}`);
    });
  campaigns
    .command('list')
    .description('campaigns')
    .option('--status <status>', 'running, paused, succeeded, stopped or aborted')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const res = await api().get(
        `/api/campaigns${o.status ? `?status=${encodeURIComponent(o.status)}` : ''}`,
      );
      print(o.json, res, () =>
        table(
          res.campaigns.map((c: CampaignView) => ({
            ...c,
            groups: c.groups.length,
            updated: `${c.total.succeeded}/${c.total.size}`,
            failed: c.total.failed,
          })),
          ['id', 'name', 'model', 'version', 'status', 'groups', 'updated', 'failed', 'reason'],
        ),
      );
    });
  campaigns
    .command('show <id>')
    .description('one campaign with its groups')
    .option('--devices', 'list its devices too')
    .option('--json', 'print JSON')
    .action(async (id: string, o) => {
      const c = await api().get<CampaignView>(`/api/campaigns/${encodeURIComponent(id)}`);
      const devices = o.devices
        ? (await api().get(`/api/campaigns/${encodeURIComponent(id)}/devices?limit=1000`)).devices
        : undefined;
      print(o.json, devices ? { ...c, devices } : c, () =>
        [
          describe(c, table),
          ...(devices
            ? [
                '',
                table(devices, ['deviceId', 'group', 'fromVersion', 'status', 'phase', 'progress', 'error']),
              ]
            : []),
        ].join('\n'),
      );
    });
  for (const [action, what] of [
    ['pause', 'pause (operator): devices updating finish, no new one starts'],
    ['resume', 'resume a paused campaign (admin)'],
    ['abort', 'abort (operator): queued commands are cancelled'],
  ] as const)
    campaigns
      .command(`${action} <id>`)
      .description(what)
      .option('--json', 'print JSON')
      .action(async (id: string, o) => {
        const c = await api().post<CampaignView>(`/api/campaigns/${encodeURIComponent(id)}/${action}`);
        print(o.json, c, () => describe(c, table));
      });
  campaigns
    .command('watch <id>')
    .description('follow a campaign live, one progress bar per group, until it ends')
    .option('--json', 'print each change as a JSON line')
    .action(async (id: string, o) => {
      const first = await api().get<CampaignView>(`/api/campaigns/${encodeURIComponent(id)}`);
      if (o.json) console.log(JSON.stringify(first));
      const bars = o.json
        ? null
        : new MultiBar(
            {
              format:
                'group {group} [{bar}] {value}/{total} | updated {succeeded} failed {failed} updating {in_progress} | {status}',
              clearOnComplete: false,
              hideCursor: true,
              stream: process.stdout,
              noTTYOutput: true,
              notTTYSchedule: 1000,
            },
            Presets.shades_classic,
          );
      const done = (g: GroupView) => g.succeeded + g.failed + g.cancelled;
      const perGroup = bars ? first.groups.map((g) => bars.create(g.size, done(g), { ...g })) : [];
      let last = first;
      const show = (c: CampaignView) => {
        last = c;
        for (const [i, g] of c.groups.entries()) perGroup[i]?.update(done(g), { ...g });
      };
      show(first);
      if (!FINAL.has(first.status))
        await followCampaignEvents(conn(), (e) => {
          if (e.campaignId !== id) return true;
          const view = { ...last, status: e.status, reason: e.reason, total: e.total, groups: e.groups };
          if (o.json) console.log(JSON.stringify(e));
          show(view);
          return !FINAL.has(e.status) || e.total.in_progress > 0;
        });
      bars?.stop();
      const end = await api().get<CampaignView>(`/api/campaigns/${encodeURIComponent(id)}`);
      if (o.json) console.log(JSON.stringify(end));
      else console.log(`\n${describe(end, table)}`);
    });
}
