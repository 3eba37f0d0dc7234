import './device.css';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api } from '../api.ts';
import { type CommandView, type ModelView, unitIn, useCommandEvents } from '../commands.ts';
import { common } from '../i18n/common.ts';
import { deviceStrings } from '../i18n/device.ts';
import { fieldStrings } from '../i18n/fields.ts';
import { formatNumber, formatTime, useT } from '../i18n/index.ts';
import { live } from '../live.ts';
import { may, useRole } from '../session.ts';
import { useValue } from '../state.ts';
import type { AlarmView, DeviceStatus } from '../types.ts';
import { CommandPanel } from './command-panel.tsx';
import { DeviceAlarms, DeviceCommands } from './device-tables.tsx';
import { type Bucket, HistoryChart } from './history-chart.tsx';

interface DeviceInfo {
  id: string;
  model: string;
  family: string;
  firmware: string;
  district: string;
  ward: string;
  lat: number | null;
  lon: number | null;
  tags: string[];
  enabled: boolean;
  status: DeviceStatus;
  lastSeenAt: string | null;
  lastReading: Record<string, unknown> | null;
  lastReadingAt: string | null;
  reportedState: Record<string, unknown> | null;
  desiredState?: Record<string, unknown> | null;
}

interface History {
  source: string;
  step: string;
  fields: Record<string, Bucket[]>;
}

const STATUS_GLYPH: Record<DeviceStatus, string> = { online: '●', offline: '○', disabled: '⊘' };
const STATUSES: DeviceStatus[] = ['online', 'offline', 'disabled'];
/** The last reading is not on the events stream: it is read again this often. */
const REFRESH_MS = 10_000;

const show = (v: unknown) =>
  typeof v === 'number' ? formatNumber(v, 2) : typeof v === 'boolean' ? (v ? '✓' : '✗') : String(v);

/**
 * `#/devices/:id`: identity, last reading, reported against desired state, 24 hours of history
 * per field, alarms, command history and (operators) the command form.
 */
export function DeviceView({ params }: { params: Record<string, string> }) {
  const t = useT(deviceStrings);
  const tc = useT(common);
  const tf = useT(fieldStrings);
  /** A field's name in words, the canonical name beside it (what the API and alarms use). */
  const fieldLabel = (k: string) =>
    k in fieldStrings.vi ? (
      <>
        {tf(k as 'ph')} <span class="muted field-id">{k}</span>
      </>
    ) : (
      k
    );
  const role = useRole();
  const id = params.id;
  const path = `/api/devices/${encodeURIComponent(id)}`;
  const [device, setDevice] = useState<DeviceInfo | null>(null);
  const [model, setModel] = useState<ModelView | null>(null);
  const [history, setHistory] = useState<History | null>(null);
  const [alarms, setAlarms] = useState<AlarmView[]>([]);
  const [commands, setCommands] = useState<CommandView[]>([]);
  const [error, setError] = useState<string | null>(null);
  useValue(live.version);

  const reload = async () => {
    try {
      const [d, a, c] = await Promise.all([
        api.get<DeviceInfo>(path),
        api.get<{ alarms: AlarmView[] }>(`/api/alarms?device=${encodeURIComponent(id)}&state=all&limit=20`),
        api.get<{ commands: CommandView[] }>(`${path}/commands?limit=20`),
      ]);
      setDevice(d);
      setAlarms(a.alarms);
      setCommands(c.commands);
      setError(null);
      return d;
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
      return null;
    }
  };

  useEffect(() => {
    let gone = false;
    setDevice(null);
    setModel(null);
    setHistory(null);
    void reload().then(async (d) => {
      if (!d || gone) return;
      const [m, h] = await Promise.all([
        api.get<ModelView>(`/api/models/${encodeURIComponent(d.model)}`),
        api.get<History>(`${path}/history?from=-24h&step=5m`).catch(() => null),
      ]);
      if (gone) return;
      setModel(m);
      setHistory(h);
    });
    const timer = setInterval(() => void reload(), REFRESH_MS);
    return () => {
      gone = true;
      clearInterval(timer);
    };
  }, [id]);

  // A command of this device changed: its history and the desired state follow (at most 3 a second).
  const pending = useRef<ReturnType<typeof setTimeout> | null>(null);
  useCommandEvents((events) => {
    if (pending.current || !events.some((e) => e.deviceId === id)) return;
    pending.current = setTimeout(() => {
      pending.current = null;
      void reload();
    }, 300);
  });
  useEffect(() => () => pending.current && clearTimeout(pending.current), []);

  if (error && !device)
    return (
      <section data-view="device">
        <h1>{id}</h1>
        <p role="alert" class="error">
          {tc('error', { message: error })}
        </p>
      </section>
    );
  if (!device)
    return (
      <section data-view="device">
        <h1>{id}</h1>
        <p>{tc('loading')}</p>
      </section>
    );

  // Presence and alarms come live from the events stream; the API answers fill in the rest.
  const i = live.city?.index.get(id);
  const status = i !== undefined ? STATUSES[live.city!.status[i]] : device.status;
  const liveAlarms = [...live.alarms.values()].filter((a) => a.deviceId === id);
  const byId = new Map(alarms.map((a) => [a.id, a]));
  for (const a of liveAlarms) byId.set(a.id, a);
  const allAlarms = [...byId.values()].sort((a, b) => (a.raisedAt < b.raisedAt ? 1 : -1));
  const reading = Object.entries(device.lastReading ?? {}).filter(([k]) => k !== 'ts');
  const reported = device.reportedState ?? {};
  // The desired state carries its version beside the fields (CommandService.desiredView).
  const { version: desiredVersion, ...desired } = device.desiredState ?? {};
  const stateKeys = [...new Set([...Object.keys(reported), ...Object.keys(desired)])].sort();
  const canCommand = may(role, 'operator') && device.enabled && (model?.commands.length ?? 0) > 0;

  return (
    <section data-view="device" class="device-page" aria-labelledby="device-title">
      <h1 id="device-title">
        <span data-testid="device-id">{device.id}</span>{' '}
        <span class={`st-${status}`} data-testid="device-status" data-status={status}>
          <span aria-hidden="true">{STATUS_GLYPH[status]}</span> {tc(`status_${status}`)}
        </span>
      </h1>
      <div class="device-grid">
        <section class="panel" aria-labelledby="h-identity">
          <h2 id="h-identity">{t('identity')}</h2>
          <dl class="facts">
            <dt>{t('family')}</dt>
            <dd>{tc(`family_${device.family}` as 'family_streetlight')}</dd>
            <dt>{t('model')}</dt>
            <dd>
              {model ? `${model.vendor} ${model.model}` : device.model}{' '}
              <span class="muted">({device.model})</span>
            </dd>
            <dt>{t('firmware')}</dt>
            <dd>{device.firmware}</dd>
            <dt>{t('place')}</dt>
            <dd>
              {device.ward}, {device.district}
            </dd>
            {device.lat !== null && device.lon !== null && (
              <>
                <dt>{t('coordinates')}</dt>
                <dd>
                  {device.lat.toFixed(5)}, {device.lon.toFixed(5)}
                </dd>
              </>
            )}
            {device.tags.length > 0 && (
              <>
                <dt>{t('tags')}</dt>
                <dd>{device.tags.join(', ')}</dd>
              </>
            )}
            <dt>{t('lastSeen')}</dt>
            <dd>{device.lastSeenAt ? formatTime(device.lastSeenAt) : t('never')}</dd>
          </dl>
        </section>
        <section class="panel" aria-labelledby="h-reading" data-testid="last-reading">
          <h2 id="h-reading">{t('lastReading')}</h2>
          {reading.length === 0 ? (
            <p class="muted">{t('noReading')}</p>
          ) : (
            <>
              <p class="muted">
                {device.lastReadingAt && t('at', { time: formatTime(device.lastReadingAt) })}
              </p>
              <table>
                <thead>
                  <tr>
                    <th scope="col">{t('field')}</th>
                    <th scope="col" class="num">
                      {t('value')}
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {reading.map(([k, v]) => (
                    <tr>
                      <th scope="row">{fieldLabel(k)}</th>
                      <td class="num">
                        {show(v)} {unitIn(model, k)}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
        </section>
        <section class="panel" aria-labelledby="h-state" data-testid="device-state">
          <h2 id="h-state">{t('state')}</h2>
          {typeof desiredVersion === 'number' && (
            <p class="muted">{t('desiredVersion', { n: desiredVersion })}</p>
          )}
          {stateKeys.length === 0 ? (
            <p class="muted">{t('noState')}</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">{t('field')}</th>
                  <th scope="col" class="num">
                    {t('reported')}
                  </th>
                  <th scope="col" class="num">
                    {t('desired')}
                  </th>
                  <th scope="col">
                    <span class="sr-only">{t('status')}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {stateKeys.map((k) => {
                  const has = k in desired;
                  const same = has && reported[k] === desired[k];
                  return (
                    <tr data-field={k}>
                      <th scope="row">{fieldLabel(k)}</th>
                      <td class="num">{k in reported ? `${show(reported[k])} ${unitIn(model, k)}` : '—'}</td>
                      <td class="num">{has ? `${show(desired[k])} ${unitIn(model, k)}` : '—'}</td>
                      <td>
                        {has &&
                          (same ? (
                            <span class="st-online">= {t('matches')}</span>
                          ) : (
                            <span class="sev-minor">≠ {t('differs')}</span>
                          ))}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )}
        </section>
        {canCommand && model && (
          <section class="panel" aria-labelledby="h-send">
            <h2 id="h-send">{t('sendCommand')}</h2>
            <CommandPanel deviceId={device.id} commands={model.commands} onFinal={() => void reload()} />
          </section>
        )}
      </div>
      <section class="panel" aria-labelledby="h-history" data-testid="history">
        <h2 id="h-history">{t('history')}</h2>
        {history === null ? (
          <p class="muted">{tc('loading')}</p>
        ) : Object.keys(history.fields).length === 0 ? (
          <p class="muted">{t('noHistory')}</p>
        ) : (
          <>
            <p class="muted">{t('historySource', { source: history.source, step: history.step })}</p>
            <div class="charts">
              {Object.entries(history.fields).map(([f, buckets]) => (
                <HistoryChart
                  key={f}
                  field={f}
                  unit={unitIn(model, f)}
                  label={f in fieldStrings.vi ? `${tf(f as 'ph')} · ${f}` : f}
                  buckets={buckets}
                />
              ))}
            </div>
          </>
        )}
      </section>
      <DeviceAlarms alarms={allAlarms} />
      <DeviceCommands commands={commands} />
    </section>
  );
}
