import type { Command } from 'commander';
import type { ApiClient } from './api-client.ts';
import { renderChart } from './history-chart.ts';

/** `citygate history <device> <field>`: a terminal chart of the field's buckets, or the JSON. */
export function historyCommand(program: Command, api: () => ApiClient): void {
  program
    .command('history <deviceId> <field>')
    .description('a device field over time (min/mean/max/last per bucket) as a terminal chart')
    .option('--from <time>', "ISO 8601 with a zone, 'now' or relative like -24h", '-24h')
    .option('--to <time>', "ISO 8601 with a zone, 'now' or relative like -1h", 'now')
    .option('--step <duration>', 'bucket width in whole minutes: 1m, 5m, 1h', '5m')
    .option('--width <columns>', 'chart width', (v) => Number.parseInt(v, 10), 72)
    .option('--json', 'print the API answer instead of a chart')
    .action(async (deviceId: string, field: string, o) => {
      const q = new URLSearchParams({ fields: field, from: o.from, to: o.to, step: o.step });
      const res = await api().get(`/api/devices/${encodeURIComponent(deviceId)}/history?${q}`);
      if (o.json) {
        console.log(JSON.stringify(res, null, 2));
        return;
      }
      console.log(
        renderChart({
          title: `${field} of ${res.deviceId} (${res.family}), mean per column, from ${res.source}`,
          from: res.from,
          to: res.to,
          step: res.step,
          buckets: res.fields[field] ?? [],
          width: o.width,
        }),
      );
    });
}
