import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.ts';
import { age, SeverityBadge } from '../components.tsx';
import { districtFilter } from '../filter.ts';
import { alarms as strings } from '../i18n/alarms.ts';
import { common } from '../i18n/common.ts';
import { formatTime, useT } from '../i18n/index.ts';
import { applyAlarm, FLOOD, isShelved, live, recentRaised } from '../live.ts';
import { navigate } from '../router.ts';
import { may, useRole } from '../session.ts';
import { useValue } from '../state.ts';
import { type AlarmView, SEVERITIES, type Severity } from '../types.ts';

const STATE_ICON: Record<AlarmView['state'], string> = {
  active_unacknowledged: '●',
  active_acknowledged: '✓',
  cleared_unacknowledged: '○',
  closed: '–',
};
const SHELVE_MINUTES = [15, 60, 240, 480, 1440];

/** Open alarms, most severe first and newest first within a severity; live from the events stream. */
export function AlarmsView({ query }: { query: URLSearchParams }) {
  const t = useT(strings);
  const c = useT(common);
  useValue(live.version);
  const district = useValue(districtFilter);
  const role = useRole();
  const [showShelved, setShowShelved] = useState(false);
  const [, tick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => tick((n) => n + 1), 5000);
    return () => clearInterval(timer);
  }, []);
  const severity = (SEVERITIES as readonly string[]).includes(query.get('severity') ?? '')
    ? (query.get('severity') as Severity)
    : null;
  const now = Date.now();
  const rows = [...live.alarms.values()]
    .filter(
      (a) => (district === null || a.district === district) && (severity === null || a.severity === severity),
    )
    .filter((a) => showShelved || !isShelved(a))
    .sort(
      (a, b) =>
        SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) ||
        Date.parse(b.raisedAt) - Date.parse(a.raisedAt),
    );
  const recent = recentRaised(now);
  const flood = recent >= FLOOD.count;
  const canAct = may(role, 'operator');
  return (
    <section data-view="alarms">
      <h1>{t('heading')}</h1>
      <p
        class={flood ? 'flood flood-on' : 'flood'}
        data-testid="flood"
        data-flood={flood ? 'on' : 'off'}
        role={flood ? 'alert' : undefined}
      >
        <span aria-hidden="true">{flood ? '≋ ' : ''}</span>
        {t(flood ? 'flood' : 'floodCalm', { count: recent })}
      </p>
      <div class="toolbar">
        <label>
          {t('severity')}{' '}
          <select
            value={severity ?? ''}
            onChange={(e) => {
              const v = (e.target as HTMLSelectElement).value;
              navigate(v ? `/alarms?severity=${v}` : '/alarms');
            }}
          >
            <option value="">{t('all')}</option>
            {SEVERITIES.map((s) => (
              <option value={s}>{c(`severity_${s}`)}</option>
            ))}
          </select>
        </label>
        <label>
          <input type="checkbox" checked={showShelved} onChange={() => setShowShelved(!showShelved)} />{' '}
          {t('showShelved')}
        </label>
        <span class="muted" data-testid="alarm-count">
          {t('count', { count: rows.length })}
        </span>
      </div>
      {rows.length === 0 ? (
        <p class="muted">{t('none')}</p>
      ) : (
        <table class="alarms" data-testid="alarm-list">
          <thead>
            <tr>
              <th>{t('severity')}</th>
              <th>{t('state')}</th>
              <th>{t('device')}</th>
              <th>{t('place')}</th>
              <th>{t('message')}</th>
              <th>{t('age')}</th>
              <th class="num">{t('occurrences')}</th>
              {canAct && <th>{t('actions')}</th>}
            </tr>
          </thead>
          <tbody>
            {rows.map((a) => (
              <AlarmRow key={a.id} alarm={a} canAct={canAct} now={now} />
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function AlarmRow({ alarm: a, canAct, now }: { alarm: AlarmView; canAct: boolean; now: number }) {
  const t = useT(strings);
  const [shelving, setShelving] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const act = async (path: string, body?: unknown) => {
    setError(null);
    try {
      applyAlarm(await api.post<AlarmView>(`/api/alarms/${encodeURIComponent(a.id)}/${path}`, body));
      return true;
    } catch (err) {
      setError(t('failed', { message: (err as Error).message }));
      return false;
    }
  };
  const shelved = isShelved(a);
  const fresh = now - Date.parse(a.raisedAt) < 10_000;
  return (
    <>
      <tr data-alarm={a.id} data-device={a.deviceId} data-state={a.state} class={fresh ? 'fresh' : ''}>
        <td>
          <SeverityBadge severity={a.severity} />
        </td>
        <td>
          <span aria-hidden="true">{STATE_ICON[a.state]}</span> {t(`state_${a.state}`)}
          {shelved && (
            <div class="muted small">
              {t('shelvedUntil', { time: formatTime(a.shelvedUntil!), reason: a.shelveReason ?? '' })}
            </div>
          )}
        </td>
        <td>
          <a href={`#/devices/${encodeURIComponent(a.deviceId)}`}>{a.deviceId}</a>
        </td>
        <td>
          {a.district}
          <div class="muted small">{a.ward}</div>
        </td>
        <td>{a.message}</td>
        <td title={formatTime(a.raisedAt)}>{age(a.raisedAt, now)}</td>
        <td class="num">{a.occurrences}</td>
        {canAct && (
          <td class="actions">
            {(a.state === 'active_unacknowledged' || a.state === 'cleared_unacknowledged') && (
              <button type="button" class="primary" data-action="ack" onClick={() => act('ack')}>
                {t('ack')}
              </button>
            )}{' '}
            {shelved ? (
              <button type="button" data-action="unshelve" onClick={() => act('unshelve')}>
                {t('unshelve')}
              </button>
            ) : (
              <button
                type="button"
                data-action="shelve"
                aria-expanded={shelving}
                onClick={() => setShelving(!shelving)}
              >
                {t('shelve')}
              </button>
            )}
            {error && (
              <div role="alert" class="error small">
                {error}
              </div>
            )}
          </td>
        )}
      </tr>
      {shelving && (
        <tr class="shelve-row">
          <td colSpan={8}>
            <ShelveForm
              onCancel={() => setShelving(false)}
              onShelve={async (minutes, reason) => {
                if (await act('shelve', { minutes, reason })) setShelving(false);
              }}
            />
          </td>
        </tr>
      )}
    </>
  );
}

function ShelveForm(props: { onShelve(minutes: number, reason: string): void; onCancel(): void }) {
  const t = useT(strings);
  const [minutes, setMinutes] = useState(60);
  const [reason, setReason] = useState('');
  return (
    <form
      class="shelve-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (reason.trim()) props.onShelve(minutes, reason.trim());
      }}
    >
      <label>
        {t('minutes')}{' '}
        <select value={minutes} onChange={(e) => setMinutes(Number((e.target as HTMLSelectElement).value))}>
          {SHELVE_MINUTES.map((m) => (
            <option value={m}>{m < 60 ? `${m} min` : `${m / 60} h`}</option>
          ))}
        </select>
      </label>
      <label>
        {t('reason')}{' '}
        <input
          name="reason"
          required
          maxLength={500}
          placeholder={t('reasonPlaceholder')}
          value={reason}
          onInput={(e) => setReason((e.target as HTMLInputElement).value)}
          // biome-ignore lint/a11y/noAutofocus: the form opens on the operator's click; typing the reason is next
          autoFocus
        />
      </label>
      <button type="submit" class="primary">
        {t('confirmShelve')}
      </button>
      <button type="button" onClick={props.onCancel}>
        {t('cancel')}
      </button>
    </form>
  );
}
