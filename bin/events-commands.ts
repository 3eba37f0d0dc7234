import type { Command } from 'commander';
import type { ApiClient } from './api-client.ts';

type Table = (rows: Array<Record<string, unknown>>, columns: string[]) => string;

interface StreamEvent {
  id: string | null;
  event: string;
  data: Record<string, any>;
}

/** One line per event, for a terminal. */
function describe(e: StreamEvent): string {
  const d = e.data;
  const at = typeof d.at === 'number' ? new Date(d.at).toISOString() : '';
  switch (e.event) {
    case 'alarm':
      return `${at}  alarm    ${d.transition.padEnd(12)} ${d.alarm.severity.padEnd(8)} ${d.alarm.deviceId}  ${d.alarm.message} (${d.actor})`;
    case 'presence':
      return `${at}  presence ${d.online ? 'online ' : 'offline'} ${d.deviceId} (${d.family}, ${d.district})`;
    case 'command':
      return `${at}  command  ${d.status.padEnd(12)} ${d.deviceId} ${d.name} ${d.commandId}`;
    case 'summary': {
      const online = Object.values(d.devices as Record<string, { online: number }>).reduce(
        (s, f) => s + f.online,
        0,
      );
      const alarms = Object.entries(d.openAlarms as Record<string, number>)
        .map(([s, n]) => `${s} ${n}`)
        .join(', ');
      return `${at}  summary  ${d.readingsPerSecond} readings/s, ${online} devices online, open alarms: ${alarms}`;
    }
    default:
      return `${e.event}: ${JSON.stringify(d)}`;
  }
}

/** Reads GET /api/events until it ends; returns the last event id seen. */
async function tail(
  url: string,
  token: string,
  lastEventId: string | null,
  onEvent: (e: StreamEvent) => boolean,
): Promise<string | null> {
  const res = await fetch(url, {
    headers: {
      authorization: `Bearer ${token}`,
      accept: 'text/event-stream',
      ...(lastEventId ? { 'last-event-id': lastEventId } : {}),
    },
  });
  if (!res.ok || !res.body) {
    const body = (await res.json().catch(() => null)) as { message?: string } | null;
    throw new Error(`${res.status} ${body?.message ?? res.statusText}`);
  }
  const decoder = new TextDecoder();
  let buffer = '';
  let last = lastEventId;
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const e: StreamEvent = { id: null, event: 'message', data: {} };
      let data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('id: ')) e.id = line.slice(4);
        else if (line.startsWith('event: ')) e.event = line.slice(7);
        else if (line.startsWith('data: ')) data += line.slice(6);
      }
      if (e.id) last = e.id;
      if (!data) continue;
      e.data = JSON.parse(data);
      if (!onEvent(e)) return last;
    }
  }
  return last;
}

/** `citygate events` and `citygate webhook(s)`: the live stream and webhooks of issue 9. */
export function eventCommands(
  program: Command,
  api: () => ApiClient,
  connection: () => { url: string; token: string },
  table: Table,
): void {
  program
    .command('events')
    .description('follow live events (alarms, presence, commands, summaries); resumes after a disconnect')
    .option('--types <list>', 'comma-separated: alarm, presence, command, summary')
    .option('--district <district>')
    .option('--count <n>', 'stop after this many events')
    .option('--json', 'print each event as JSON')
    .action(async (o) => {
      const { url, token } = connection();
      const q = new URLSearchParams();
      if (o.types) q.set('types', o.types);
      if (o.district) q.set('district', o.district);
      const limit = o.count ? Number(o.count) : Number.POSITIVE_INFINITY;
      let seen = 0;
      let lastId: string | null = null;
      const print = (e: StreamEvent) => {
        if (e.event === 'reset') console.log(`-- ${e.data.reason}; events may have been missed --`);
        else console.log(o.json ? JSON.stringify({ id: e.id, ...e.data }) : describe(e));
        return ++seen < limit;
      };
      for (;;) {
        try {
          lastId = await tail(`${url.replace(/\/$/, '')}/api/events?${q}`, token, lastId, print);
          if (seen >= limit) return;
        } catch (err) {
          if (seen === 0 && lastId === null) throw err;
          console.error(`citygate: events stream lost (${(err as Error).message}); reconnecting`);
        }
        await new Promise((r) => setTimeout(r, 3000));
      }
    });

  program
    .command('webhooks')
    .description('list webhooks with their delivery counts')
    .action(async () => {
      const res = await api().get('/api/webhooks');
      const rows = res.webhooks.map((w: Record<string, any>) => ({
        ...w,
        types: w.types.join(','),
        severities: w.severities?.join(',') ?? 'all',
        deliveries: Object.entries(w.deliveries)
          .map(([k, n]) => `${k} ${n}`)
          .join(', '),
      }));
      console.log(table(rows, ['id', 'url', 'types', 'severities', 'deliveries', 'createdBy']));
    });

  const webhook = program.command('webhook').description('register, remove or inspect a webhook');
  webhook
    .command('add <url>')
    .description('register a webhook; prints its signing secret once')
    .option('--types <list>', 'comma-separated: alarm, presence, command', 'alarm')
    .option('--severities <list>', 'alarm severities to send (default: all)')
    .option('--description <text>')
    .action(async (url, o) => {
      const res = await api().post('/api/webhooks', {
        url,
        types: o.types.split(','),
        ...(o.severities ? { severities: o.severities.split(',') } : {}),
        ...(o.description ? { description: o.description } : {}),
      });
      console.log(`webhook ${res.id} registered for ${res.types.join(', ')}`);
      console.log(`signing secret (shown once; verify X-Citygate-Signature with it):\n  ${res.secret}`);
    });
  webhook
    .command('rm <id>')
    .description('delete a webhook and its deliveries')
    .action(async (id) => {
      await api().request('DELETE', `/api/webhooks/${encodeURIComponent(id)}`);
      console.log(`webhook ${id} deleted`);
    });
  webhook
    .command('deliveries <id>')
    .description('show recent deliveries, newest first')
    .option('--status <status>', 'pending, delivered, failed or dropped')
    .option('--limit <n>', 'at most this many', '20')
    .action(async (id, o) => {
      const q = new URLSearchParams({ limit: o.limit, ...(o.status ? { status: o.status } : {}) });
      const res = await api().get(`/api/webhooks/${encodeURIComponent(id)}/deliveries?${q}`);
      console.log(
        table(res.deliveries, [
          'id',
          'eventType',
          'status',
          'attempts',
          'lastStatusCode',
          'lastError',
          'nextAttemptAt',
          'updatedAt',
        ]),
      );
    });
}
