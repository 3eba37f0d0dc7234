import 'uplot/dist/uPlot.min.css';
import './lighting.css';
import { useEffect, useRef, useState } from 'preact/hooks';
import type uPlot from 'uplot';
import { api, query } from '../api.ts';
import { common } from '../i18n/common.ts';
import { formatNumber, formatTime, lang, useT } from '../i18n/index.ts';
import { lighting as strings } from '../i18n/lighting.ts';
import { live } from '../live.ts';
import { navigate } from '../router.ts';
import { may, useRole } from '../session.ts';
import { useValue } from '../state.ts';

/** The calendar's time zone: every step and sun time is shown in Hanoi time, wherever the browser is. */
const ZONE = 'Asia/Ho_Chi_Minh';

interface GroupSelector {
  district?: string;
  ward?: string;
  model?: string;
  tag?: string;
  ids?: string[];
}
interface NextStep {
  program: string;
  label: string;
  level: number;
  at: string;
  latestAt: string;
}
interface LampGroup {
  id: string;
  group: GroupSelector;
  programs: Record<string, string>;
  night: string;
  tonight: Array<{ program: string; exception: string | null; dayType: string; lamps: number }>;
  nextSteps: NextStep[];
}
interface Groups {
  scheduler: 'on' | 'off';
  at: string;
  groups: LampGroup[];
}
interface Preview {
  night: string;
  dayType: string;
  holiday: string | null;
  program: string;
  sun: { sunset: string; sunrise: string; civil_dusk: string; civil_dawn: string };
  steps: Array<{ label: string; level: number; at: string; local: string }>;
  samples: Array<{ at: string; level: number }>;
}
type LampState = 'in_step' | 'offline' | 'pending' | 'out_of_step';
interface Lamp {
  deviceId: string;
  district: string;
  ward: string;
  group: string;
  program: string;
  expected: number;
  because: string;
  desired: number | null;
  reported: number | null;
  reportedAt: string | null;
  state: LampState;
}
interface Lamps {
  total: number;
  notInStep: number;
  failed: Array<{ deviceId: string; reason: string }>;
  lamps: Lamp[];
}
interface Override {
  id: string;
  group: GroupSelector;
  lamps: number;
  level: number;
  reason: string;
  createdAt: string;
  createdBy: string;
  until: string | null;
  endedAt: string | null;
  endedBy: string | null;
}

/** Each state has an icon and its name, never its colour alone. */
const STATE_ICON: Record<LampState, string> = { in_step: '✓', offline: '○', pending: '…', out_of_step: '≠' };
const OUT_OF_STEP_LIMIT = 100;

/** `HH:MM` in Hanoi time. */
export function hanoiClock(iso: string): string {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: ZONE,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(new Date(iso));
}

/** Date and time in Hanoi, in the current language's format. */
function hanoiDateTime(iso: string): string {
  return new Date(iso).toLocaleString(lang.get() === 'vi' ? 'vi-VN' : 'en-GB', { timeZone: ZONE });
}

const describeGroup = (g: GroupSelector) =>
  [g.district, g.ward, g.model, g.tag && `#${g.tag}`, g.ids && `${g.ids.length} ids`]
    .filter(Boolean)
    .join(' · ');

/** Street-lighting programs (`/api/lighting/…`): groups, next steps, a night's chart, lamps out of step. */
export function LightingView({ query: q }: { query: URLSearchParams }) {
  const t = useT(strings);
  const c = useT(common);
  const canOverride = may(useRole(), 'operator');
  const [groups, setGroups] = useState<Groups | null>(null);
  const [previews, setPreviews] = useState<Record<string, Preview | string>>({});
  const [lamps, setLamps] = useState<Lamps | null>(null);
  const [overrides, setOverrides] = useState<Override[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    const abort = new AbortController();
    const fail = (err: unknown) => abort.signal.aborted || setError((err as Error).message);
    setError(null);
    api
      .get<Groups>('/api/lighting/groups', abort.signal)
      .then(async (g) => {
        setGroups(g);
        // One preview per group: its sun times and the level over the night (a calendar has few groups).
        const entries = await Promise.all(
          g.groups.map((x) =>
            api
              .get<Preview>(`/api/lighting/preview${query({ group: x.id, stepMinutes: 5 })}`, abort.signal)
              .then((p): [string, Preview | string] => [x.id, p])
              .catch((err): [string, Preview | string] => [x.id, (err as Error).message]),
          ),
        );
        if (!abort.signal.aborted) setPreviews(Object.fromEntries(entries));
      })
      .catch(fail);
    api
      .get<Lamps>(`/api/lighting/lamps${query({ outOfStep: true, limit: OUT_OF_STEP_LIMIT })}`, abort.signal)
      .then(setLamps)
      .catch(fail);
    api
      .get<{ overrides: Override[] }>('/api/lighting/overrides', abort.signal)
      .then((o) => setOverrides(o.overrides))
      .catch(fail);
    return () => abort.abort();
  }, [reload]);

  const selected = groups?.groups.find((g) => g.id === q.get('group')) ?? groups?.groups[0];
  const preview = selected ? previews[selected.id] : undefined;
  return (
    <section data-view="lighting">
      <h1>{t('heading')}</h1>
      <p class="muted">{t('help')}</p>
      {error && (
        <p role="alert" class="error">
          {c('error', { message: error })}
        </p>
      )}
      {!groups && !error && <p>{c('loading')}</p>}
      {groups && (
        <div class="toolbar">
          <span class={`sev sched-${groups.scheduler}`} data-testid="scheduler" data-state={groups.scheduler}>
            <span aria-hidden="true">{groups.scheduler === 'on' ? '▶' : '■'}</span> {t('scheduler')}:{' '}
            {t(`scheduler_${groups.scheduler}`)}
          </span>
          <span class="muted">{t('at', { time: `${hanoiDateTime(groups.at)} (${ZONE})` })}</span>
          {groups.scheduler === 'off' && <span class="muted small">{t('schedulerOffHelp')}</span>}
        </div>
      )}
      {groups && (
        <div class="panel">
          <h2>{t('groups')}</h2>
          <table data-testid="lighting-groups">
            <thead>
              <tr>
                <th>{t('group')}</th>
                <th>{t('program')}</th>
                <th>{t('dayType')}</th>
                <th class="num">{t('lamps')}</th>
                <th>
                  {t('sunset')} / {t('sunrise')}
                </th>
                <th>{t('nextSteps')}</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {groups.groups.map((g) => {
                const p = previews[g.id];
                const tonight = g.tonight[0];
                return (
                  <tr data-group={g.id} aria-current={g.id === selected?.id ? 'true' : undefined}>
                    <td>
                      <b>{g.id}</b>
                      <div class="muted small">{describeGroup(g.group)}</div>
                    </td>
                    <td data-testid="group-program">
                      {g.tonight.length
                        ? g.tonight.map((x) => (
                            <div>
                              {x.program}
                              {x.exception && (
                                <span class="muted small">
                                  {' '}
                                  ({t('exception')}: {x.exception})
                                </span>
                              )}
                            </div>
                          ))
                        : (typeof p === 'object' && p.program) || t('none')}
                    </td>
                    <td data-testid="group-day-type">
                      {tonight?.dayType ?? (typeof p === 'object' ? p.dayType : t('none'))}
                      {typeof p === 'object' && p.holiday && <div class="muted small">{p.holiday}</div>}
                    </td>
                    <td class="num">{formatNumber(g.tonight.reduce((n, x) => n + x.lamps, 0))}</td>
                    <td data-testid="group-sun">
                      {typeof p === 'object' ? (
                        <>
                          <span aria-hidden="true">☾</span> {hanoiClock(p.sun.sunset)} ·{' '}
                          <span aria-hidden="true">☀</span> {hanoiClock(p.sun.sunrise)}
                        </>
                      ) : (
                        <span class="muted small">{p ?? '…'}</span>
                      )}
                    </td>
                    <td>
                      {g.nextSteps.length === 0 ? (
                        <span class="muted">{t('noNextSteps')}</span>
                      ) : (
                        <ol class="next-steps" data-testid="next-steps">
                          {g.nextSteps.map((s) => (
                            <li data-at={s.at}>
                              <time dateTime={s.at} data-testid="step-time">
                                {hanoiClock(s.at)}
                              </time>
                              {s.latestAt !== s.at && (
                                <span class="muted small">
                                  {' '}
                                  ({t('latest', { time: hanoiClock(s.latestAt) })})
                                </span>
                              )}{' '}
                              → <b>{s.level} %</b>{' '}
                              <span class="muted small">
                                {s.label}
                                {tonight && s.program !== tonight.program && ` · ${s.program}`}
                              </span>
                            </li>
                          ))}
                        </ol>
                      )}
                    </td>
                    <td>
                      <button
                        type="button"
                        aria-pressed={g.id === selected?.id}
                        onClick={() => navigate(`/lighting${query({ group: g.id })}`)}
                      >
                        {g.id === selected?.id ? t('shown') : t('show')}
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {selected && typeof preview === 'object' && <NightChart group={selected.id} preview={preview} />}
      {selected && typeof preview === 'string' && (
        <p role="alert" class="error">
          {c('error', { message: preview })}
        </p>
      )}
      <OutOfStep lamps={lamps} />
      {groups && overrides && (
        <Overrides
          overrides={overrides}
          groups={groups.groups}
          canOverride={canOverride}
          changed={() => setReload((n) => n + 1)}
        />
      )}
    </section>
  );
}

/** The program's level over the night as a stepped line, sunset and sunrise as labelled vertical lines. */
function NightChart({ group, preview }: { group: string; preview: Preview }) {
  const t = useT(strings);
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    let plot: uPlot | null = null;
    let gone = false;
    const el = box.current;
    if (!el || preview.samples.length === 0) return;
    void import('uplot').then(({ default: UPlot }) => {
      if (gone) return;
      const xs = preview.samples.map((s) => Date.parse(s.at) / 1000);
      const marks = [
        {
          at: Date.parse(preview.sun.sunset) / 1000,
          label: `☾ ${t('sunset')} ${hanoiClock(preview.sun.sunset)}`,
        },
        {
          at: Date.parse(preview.sun.sunrise) / 1000,
          label: `☀ ${t('sunrise')} ${hanoiClock(preview.sun.sunrise)}`,
        },
      ];
      const axis = { stroke: '#9fb0c0', grid: { stroke: '#2a3848', width: 1 }, ticks: { stroke: '#2a3848' } };
      plot = new UPlot(
        {
          width: Math.max(320, el.clientWidth),
          height: 220,
          legend: { show: false },
          cursor: { drag: { x: false, y: false } },
          scales: { y: { range: [0, 100] } },
          axes: [
            { ...axis, values: (_u, v) => v.map((ts) => hanoiClock(new Date(ts * 1000).toISOString())) },
            { ...axis, size: 60, values: (_u, v) => v.map((n) => `${n} %`) },
          ],
          series: [
            {},
            {
              label: t('level'),
              stroke: '#f2c94c',
              fill: '#f2c94c22',
              width: 2,
              paths: UPlot.paths.stepped?.({ align: 1 }),
              points: { show: false },
            },
          ],
          tzDate: (ts) => UPlot.tzDate(new Date(ts * 1000), ZONE),
          hooks: {
            draw: [
              (u) => {
                const ctx = u.ctx;
                const { top, height } = u.bbox;
                ctx.save();
                ctx.strokeStyle = '#e0e6ed';
                ctx.fillStyle = '#e0e6ed';
                ctx.lineWidth = 1.5 * devicePixelRatio;
                ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
                ctx.font = `${12 * devicePixelRatio}px system-ui, sans-serif`;
                for (const [i, m] of marks.entries()) {
                  const x = u.valToPos(m.at, 'x', true);
                  ctx.beginPath();
                  ctx.moveTo(x, top);
                  ctx.lineTo(x, top + height);
                  ctx.stroke();
                  ctx.textAlign = i === 0 ? 'left' : 'right';
                  ctx.fillText(
                    m.label,
                    x + (i === 0 ? 4 : -4) * devicePixelRatio,
                    top + 14 * devicePixelRatio,
                  );
                }
                ctx.restore();
              },
            ],
          },
        },
        [xs, preview.samples.map((s) => s.level)],
        el,
      );
      el.dataset.drawn = 'true';
    });
    return () => {
      gone = true;
      plot?.destroy();
      if (el) delete el.dataset.drawn;
    };
  }, [preview, lang.get()]);

  const summary = t('chartSummary', {
    steps: preview.steps.map((s) => `${s.local} ${s.level} %`).join(', '),
    sunset: hanoiClock(preview.sun.sunset),
    sunrise: hanoiClock(preview.sun.sunrise),
  });
  return (
    <figure
      class="chart panel"
      data-testid="lighting-chart"
      data-group={group}
      data-points={preview.samples.length}
    >
      <figcaption>{t('chartHeading', { group, night: preview.night, program: preview.program })}</figcaption>
      <div ref={box} class="chart-box" role="img" aria-label={summary} />
      <table class="small" data-testid="program-steps">
        <thead>
          <tr>
            <th>{t('step')}</th>
            <th>{ZONE}</th>
            <th class="num">{t('level')}</th>
          </tr>
        </thead>
        <tbody>
          {preview.steps.map((s) => (
            <tr>
              <td>{s.label}</td>
              <td>
                <time dateTime={s.at}>{s.local}</time>
              </td>
              <td class="num">{s.level} %</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}

function OutOfStep({ lamps }: { lamps: Lamps | null }) {
  const t = useT(strings);
  if (!lamps) return null;
  const lvl = (n: number | null) => (n === null ? t('none') : `${n} %`);
  return (
    <div class="panel">
      <h2>{t('outOfStep')}</h2>
      <p class="muted">
        {t('outOfStepHelp')}{' '}
        <b data-testid="out-of-step-total">{t('outOfStepTotal', { count: formatNumber(lamps.total) })}</b>
      </p>
      {lamps.failed.length > 0 && (
        <p class="error small">
          {t('failed', {
            count: lamps.failed.length,
            id: lamps.failed[0].deviceId,
            reason: lamps.failed[0].reason,
          })}
        </p>
      )}
      {lamps.lamps.length === 0 ? (
        <p class="muted">{t('allInStep')}</p>
      ) : (
        <table data-testid="out-of-step-list">
          <thead>
            <tr>
              <th>{t('device')}</th>
              <th>{t('group')}</th>
              <th class="num">{t('expected')}</th>
              <th class="num">{t('reported')}</th>
              <th class="num">{t('desired')}</th>
              <th>{t('state')}</th>
              <th>{t('because')}</th>
            </tr>
          </thead>
          <tbody>
            {lamps.lamps.map((l) => (
              <tr data-device={l.deviceId}>
                <td>
                  <a href={`#/devices/${encodeURIComponent(l.deviceId)}`}>{l.deviceId}</a>
                  <div class="muted small">
                    {l.district} · {l.ward}
                  </div>
                </td>
                <td>
                  {l.group} <span class="muted small">({l.program})</span>
                </td>
                <td class="num" data-testid="expected">
                  {lvl(l.expected)}
                </td>
                <td class="num" data-testid="reported">
                  {lvl(l.reported)}
                  {l.reportedAt && <div class="muted small">{formatTime(l.reportedAt)}</div>}
                </td>
                <td class="num">{lvl(l.desired)}</td>
                <td>
                  <span class={`sev lamp-${l.state}`} data-state={l.state}>
                    <span aria-hidden="true">{STATE_ICON[l.state]}</span> {t(`state_${l.state}`)}
                  </span>
                </td>
                <td class="small">{l.because}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {lamps.total > lamps.lamps.length && (
        <p class="muted small">
          {lamps.lamps.length} / {formatNumber(lamps.total)} ·{' '}
          <code>citygate lighting lamps --out-of-step</code>
        </p>
      )}
    </div>
  );
}

function Overrides({
  overrides,
  groups,
  canOverride,
  changed,
}: {
  overrides: Override[];
  groups: LampGroup[];
  canOverride: boolean;
  changed: () => void;
}) {
  const t = useT(strings);
  const c = useT(common);
  useValue(live.version);
  // A group with a selector, or a whole district (the catch-all group has no selector to send).
  const targets = [
    ...groups
      .filter((g) => Object.keys(g.group).length > 0)
      .map((g) => ({ key: `g:${g.id}`, label: `${g.id} (${describeGroup(g.group)})`, group: g.group })),
    ...(live.city?.districts ?? []).map((d) => ({
      key: `d:${d.name}`,
      label: `${t('district')}: ${d.name}`,
      group: { district: d.name } as GroupSelector,
    })),
  ];
  const [target, setTarget] = useState(targets[0]?.key ?? '');
  const [level, setLevel] = useState('100');
  const [minutes, setMinutes] = useState('');
  const [reason, setReason] = useState('');
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const start = async (e: Event) => {
    e.preventDefault();
    const g = targets.find((x) => x.key === target);
    if (!g) return;
    try {
      const o = await api.post<Override>('/api/lighting/overrides', {
        group: g.group,
        level: Number(level),
        ...(minutes.trim() ? { minutes: Number(minutes) } : {}),
        reason: reason.trim(),
      });
      setMessage({ ok: true, text: t('overrideStarted', { lamps: o.lamps }) });
      setReason('');
      changed();
    } catch (err) {
      setMessage({ ok: false, text: c('error', { message: (err as Error).message }) });
    }
  };
  const end = async (id: string) => {
    try {
      await api.del(`/api/lighting/overrides/${encodeURIComponent(id)}`);
      changed();
    } catch (err) {
      setMessage({ ok: false, text: c('error', { message: (err as Error).message }) });
    }
  };
  return (
    <div class="panel" data-testid="lighting-overrides">
      <h2>{t('overrides')}</h2>
      {overrides.length === 0 ? (
        <p class="muted">{t('noOverrides')}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>{t('overrideGroup')}</th>
              <th class="num">{t('level')}</th>
              <th class="num">{t('lamps')}</th>
              <th>{t('overrideReason')}</th>
              <th>{t('overrideBy')}</th>
              <th>{t('overrideUntil')}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {overrides.map((o) => (
              <tr data-override={o.id}>
                <td>{describeGroup(o.group)}</td>
                <td class="num">{o.level} %</td>
                <td class="num">{formatNumber(o.lamps)}</td>
                <td>{o.reason}</td>
                <td>
                  {o.createdBy}
                  <div class="muted small">{formatTime(o.createdAt)}</div>
                </td>
                <td>
                  {o.endedAt ? (
                    <span class="muted">
                      {t('overrideEnded', { time: formatTime(o.endedAt), by: o.endedBy ?? '' })}
                    </span>
                  ) : (
                    <>
                      <span aria-hidden="true">▶</span> {t('overrideActive')}
                      {o.until && <div class="muted small">{formatTime(o.until)}</div>}
                    </>
                  )}
                </td>
                <td>
                  {canOverride && !o.endedAt && (
                    <button type="button" data-action="end-override" onClick={() => end(o.id)}>
                      {t('overrideEnd')}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {canOverride && (
        <form class="toolbar" data-testid="override-form" onSubmit={start}>
          <strong>{t('overrideStart')}</strong>
          <label>
            {t('overrideFor')}{' '}
            <select value={target} onChange={(e) => setTarget((e.target as HTMLSelectElement).value)}>
              {targets.map((g) => (
                <option value={g.key}>{g.label}</option>
              ))}
            </select>
          </label>
          <label>
            {t('overrideLevel')}{' '}
            <input
              type="number"
              min={0}
              max={100}
              step={1}
              required
              value={level}
              onInput={(e) => setLevel((e.target as HTMLInputElement).value)}
            />
          </label>
          <label>
            {t('overrideMinutes')}{' '}
            <input
              type="number"
              min={1}
              max={1440}
              step={1}
              value={minutes}
              aria-describedby="override-minutes-help"
              onInput={(e) => setMinutes((e.target as HTMLInputElement).value)}
            />
          </label>
          <label>
            {t('overrideReason')}{' '}
            <input
              required
              maxLength={500}
              value={reason}
              onInput={(e) => setReason((e.target as HTMLInputElement).value)}
            />
          </label>
          <button type="submit" class="primary">
            {t('overrideStart')}
          </button>
          <span id="override-minutes-help" class="muted small">
            {t('overrideUntilNext')}
          </span>
        </form>
      )}
      {message && (
        <p
          role={message.ok ? 'status' : 'alert'}
          class={message.ok ? 'muted' : 'error'}
          data-testid="override-message"
        >
          {message.text}
        </p>
      )}
    </div>
  );
}
