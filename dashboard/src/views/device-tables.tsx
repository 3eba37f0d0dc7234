import type { CommandView } from '../commands.ts';
import { commandStrings } from '../i18n/commands.ts';
import { common } from '../i18n/common.ts';
import { deviceStrings } from '../i18n/device.ts';
import { formatTime, useT } from '../i18n/index.ts';
import type { AlarmView } from '../types.ts';
import { labelOf, StateBadge } from './command-fields.tsx';

const SEVERITY_GLYPH: Record<string, string> = { critical: '▲', major: '◆', minor: '●', warning: '■' };

/** The device's alarms, newest first: severity by shape and word as well as colour. */
export function DeviceAlarms({ alarms: allAlarms }: { alarms: AlarmView[] }) {
  const t = useT(deviceStrings);
  const tc = useT(common);
  return (
    <section class="panel" aria-labelledby="h-alarms" data-testid="device-alarms">
      <h2 id="h-alarms">{t('alarms')}</h2>
      {allAlarms.length === 0 ? (
        <p class="muted">{t('noAlarms')}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">{t('severity')}</th>
              <th scope="col">{t('status')}</th>
              <th scope="col">{t('message')}</th>
              <th scope="col">{t('raisedAt')}</th>
            </tr>
          </thead>
          <tbody>
            {allAlarms.map((a) => (
              <tr>
                <td>
                  <span class={`sev sev-${a.severity}`}>
                    <span aria-hidden="true">{SEVERITY_GLYPH[a.severity]}</span>{' '}
                    {tc(`severity_${a.severity}`)}
                  </span>
                </td>
                <td>{t(`alarm_${a.state}`)}</td>
                <td>{a.message}</td>
                <td>{formatTime(a.raisedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** The device's latest commands with their states. */
export function DeviceCommands({ commands }: { commands: CommandView[] }) {
  const t = useT(deviceStrings);
  const tcmd = useT(commandStrings);
  return (
    <section class="panel" aria-labelledby="h-commands" data-testid="device-commands">
      <h2 id="h-commands">{t('commands')}</h2>
      {commands.length === 0 ? (
        <p class="muted">{t('noCommands')}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">{t('time')}</th>
              <th scope="col">{tcmd('command')}</th>
              <th scope="col">{t('params')}</th>
              <th scope="col">{t('status')}</th>
              <th scope="col">{t('requestedBy')}</th>
            </tr>
          </thead>
          <tbody>
            {commands.map((c) => (
              <tr data-command={c.id} data-status={c.status}>
                <td>{formatTime(c.createdAt)}</td>
                <td>
                  {labelOf(tcmd, 'cmd', c.name)}
                  {c.bulkId && <span class="muted"> · {t('bulk')}</span>}
                </td>
                <td>
                  <code>{JSON.stringify(c.params)}</code>
                </td>
                <td>
                  <StateBadge state={c.status} />
                  {c.error && <span class="muted"> · {c.error}</span>}
                </td>
                <td>{c.requestedBy}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
