import type { Command } from 'commander';
import type { ApiClient } from './api-client.ts';
import { type NightPreview, renderNightChart } from './lighting-chart.ts';

type Table = (rows: Array<Record<string, unknown>>, columns: string[]) => string;

const OFFSET_MS = 7 * 3600_000;
const local = (iso: string) =>
  new Date(Date.parse(iso) + OFFSET_MS).toISOString().slice(5, 16).replace('T', ' ');

interface GroupView {
  id: string;
  group: Record<string, unknown>;
  night: string;
  tonight: Array<{ program: string; exception: string | null; dayType: string; lamps: number }>;
  nextSteps: Array<{ program: string; label: string; level: number; at: string; latestAt: string }>;
}

/** `citygate lighting status|preview|lamps|energy|override|end-override` (issue 13). */
export function addLightingCommands(program: Command, api: () => ApiClient, table: Table): void {
  const lighting = program
    .command('lighting')
    .description('street-lighting programs: status, preview, energy, overrides');

  lighting
    .command('status')
    .description("each group's program tonight, its next steps, and the lamps out of step")
    .action(async () => {
      const g = await api().get('/api/lighting/groups');
      const lamps = await api().get('/api/lighting/lamps?outOfStep=true&limit=20');
      console.log(
        `scheduler ${g.scheduler}, ${local(g.at)} Hanoi time, night of ${g.groups[0]?.night ?? '?'}\n`,
      );
      console.log(
        table(
          g.groups.map((x: GroupView) => ({
            group: x.id,
            covers:
              Object.entries(x.group)
                .map(([k, v]) => `${k}=${v}`)
                .join(' ') || 'every other lamp',
            tonight:
              x.tonight
                .map((t) => `${t.program}${t.exception ? ` (${t.exception})` : ''} ×${t.lamps}`)
                .join(', ') || '-',
            next: x.nextSteps
              .slice(0, 3)
              .map((s) => `${local(s.at).slice(6)} ${s.level}% ${s.label}`)
              .join(' | '),
          })),
          ['group', 'covers', 'tonight', 'next'],
        ),
      );
      console.log(
        `\n${lamps.notInStep} of the controlled lamps not at their level now (offline, pending or out of step)`,
      );
      if (lamps.lamps.length)
        console.log(
          table(lamps.lamps, [
            'deviceId',
            'district',
            'online',
            'expected',
            'because',
            'desired',
            'reported',
            'state',
          ]),
        );
      for (const f of lamps.failed.slice(0, 10)) console.log(`cannot run: ${f.deviceId}: ${f.reason}`);
    });

  lighting
    .command('preview')
    .description('a program (or a group) over one night, as a chart of level against time')
    .option('--program <id>', 'a program id, e.g. hanoi-standard')
    .option('--group <id>', "a calendar group: that night's program at one of its lamps")
    .option('--date <YYYY-MM-DD>', 'the evening of the night (default tonight)')
    .option('--lat <deg>')
    .option('--lon <deg>')
    .option('--width <n>', 'columns of the chart', '72')
    .action(async (o) => {
      if (!o.program && !o.group) o.group = 'city';
      const q = new URLSearchParams({ stepMinutes: '5' });
      for (const k of ['program', 'group', 'date', 'lat', 'lon']) if (o[k] !== undefined) q.set(k, o[k]);
      const p = (await api().get(`/api/lighting/preview?${q}`)) as NightPreview;
      console.log(renderNightChart(p, Number(o.width)));
    });

  lighting
    .command('lamps')
    .description('what every lamp should be at now against what it reports')
    .option('--out-of-step', 'only lamps not at their level')
    .option('--district <name>')
    .option('--limit <n>', 'at most this many', '50')
    .action(async (o) => {
      const q = new URLSearchParams({ limit: o.limit });
      if (o.outOfStep) q.set('outOfStep', 'true');
      if (o.district) q.set('district', o.district);
      const res = await api().get(`/api/lighting/lamps?${q}`);
      console.log(
        table(res.lamps, [
          'deviceId',
          'district',
          'group',
          'program',
          'expected',
          'because',
          'desired',
          'reported',
          'state',
        ]),
      );
      console.log(`\n${res.lamps.length} of ${res.total}; ${res.notInStep} not at their level`);
    });

  lighting
    .command('energy')
    .description('energy per district over one night, against all night at full power')
    .option('--date <YYYY-MM-DD>', 'the evening of the night (default tonight)')
    .action(async (o) => {
      const e = await api().get(`/api/lighting/energy${o.date ? `?date=${o.date}` : ''}`);
      console.log(
        `night of ${e.night}: lamp power from readings ${e.powerSources.reading}, model ${e.powerSources.model}, default ${e.powerSources.default}\n`,
      );
      console.log(
        table(
          [...e.districts, e.total],
          ['district', 'lamps', 'fullPowerKw', 'programKwh', 'allNightKwh', 'savingKwh', 'savingPercent'],
        ),
      );
    });

  lighting
    .command('override')
    .description('hold some lamps at a level for a time, or until the next step of their program')
    .requiredOption('--level <percent>')
    .requiredOption('--reason <text>')
    .option('--minutes <n>', 'how long (default: until the next step)')
    .option('--district <name>')
    .option('--ward <name>')
    .option('--tag <tag>')
    .option('--ids <list>', 'comma-separated lamp ids')
    .action(async (o) => {
      const group: Record<string, unknown> = {};
      for (const k of ['district', 'ward', 'tag']) if (o[k]) group[k] = o[k];
      if (o.ids) group.ids = String(o.ids).split(',');
      const res = await api().post('/api/lighting/overrides', {
        group,
        level: Number(o.level),
        reason: o.reason,
        ...(o.minutes !== undefined && { minutes: Number(o.minutes) }),
      });
      console.log(`${res.id}: ${res.lamps} lamps at ${res.level}% until ${local(res.until)} (${res.mode})`);
    });

  lighting
    .command('end-override <id>')
    .description('end an override now; its lamps return to their program')
    .action(async (id: string) => {
      const res = await api().request('DELETE', `/api/lighting/overrides/${encodeURIComponent(id)}`);
      console.log(`${res.id} ended at ${local(res.endedAt)}`);
    });
}
