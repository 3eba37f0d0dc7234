import type { Command } from 'commander';
import type { ApiClient } from './api-client.ts';

type Table = (rows: Array<Record<string, unknown>>, columns: string[]) => string;

interface AlarmView {
  id: string;
  state: string;
  severity: string;
  message: string;
  shelvedUntil: string | null;
  shelveReason: string | null;
  acknowledgedBy: string | null;
}

const summary = (a: AlarmView) =>
  `${a.id} ${a.severity} ${a.state}${a.acknowledgedBy ? ` (acknowledged by ${a.acknowledgedBy})` : ''}${
    a.shelvedUntil ? `, shelved until ${a.shelvedUntil}: ${a.shelveReason}` : ''
  }`;

/** `citygate alarms` and `citygate alarm show|ack|shelve|unshelve` (issue 9). */
export function addAlarmCommands(program: Command, api: () => ApiClient, table: Table): void {
  program
    .command('alarms')
    .description('list alarms, most urgent first (default: every alarm not closed)')
    .option('--state <state>', 'open, all, or a lifecycle state such as active_unacknowledged')
    .option('--severity <severity>', 'critical, major, minor or warning')
    .option('--family <family>')
    .option('--district <district>')
    .option('--device <id>')
    .option('--limit <n>', 'at most this many', '50')
    .action(async (o) => {
      const q = new URLSearchParams(
        Object.entries(o).filter(([, v]) => v !== undefined) as [string, string][],
      );
      const res = await api().get(`/api/alarms?${q}`);
      const rows = res.alarms.map((a: AlarmView & Record<string, unknown>) => ({
        ...a,
        shelved: a.shelvedUntil ? `until ${a.shelvedUntil}` : null,
      }));
      console.log(
        table(rows, [
          'id',
          'severity',
          'state',
          'deviceId',
          'district',
          'ruleId',
          'occurrences',
          'raisedAt',
          'shelved',
          'message',
        ]),
      );
      console.log(`\n${res.alarms.length} of ${res.total}`);
    });

  const alarm = program.command('alarm').description('show, acknowledge or shelve one alarm');
  alarm
    .command('show <id>')
    .description('one alarm and its history (who did what, when)')
    .action(async (id) => {
      const a = await api().get(`/api/alarms/${encodeURIComponent(id)}`);
      console.log(`${summary(a)}\n${a.deviceId} ${a.ruleId}: ${a.message} (${a.occurrences}x)\n`);
      console.log(table(a.history, ['at', 'transition', 'state', 'actor', 'detail']));
    });
  alarm
    .command('ack <id>')
    .description('acknowledge an alarm (operator)')
    .action(async (id) =>
      console.log(summary(await api().post(`/api/alarms/${encodeURIComponent(id)}/ack`))),
    );
  alarm
    .command('shelve <id>')
    .description('shelve an alarm for a time, with a reason (operator)')
    .requiredOption('--minutes <n>', 'how long (at most a week)', Number)
    .requiredOption('--reason <text>', 'why, for the next shift')
    .action(async (id, o) =>
      console.log(
        summary(
          await api().post(`/api/alarms/${encodeURIComponent(id)}/shelve`, {
            minutes: o.minutes,
            reason: o.reason,
          }),
        ),
      ),
    );
  alarm
    .command('unshelve <id>')
    .description('end the shelving of an alarm now (operator)')
    .action(async (id) =>
      console.log(summary(await api().post(`/api/alarms/${encodeURIComponent(id)}/unshelve`))),
    );
}
