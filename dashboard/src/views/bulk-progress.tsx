import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api } from '../api.ts';
import { COMMAND_STATES, FINAL_STATES, useCommandEvents } from '../commands.ts';
import { bulkStrings } from '../i18n/bulk.ts';
import { commandStrings } from '../i18n/commands.ts';
import { common } from '../i18n/common.ts';
import { formatNumber, formatTime, useT } from '../i18n/index.ts';
import { labelOf, StateBadge } from './command-fields.tsx';

interface BulkStatus {
  id: string;
  name: string;
  params: Record<string, unknown>;
  selector: Record<string, unknown>;
  ratePerSecond: number;
  requestedBy: string;
  createdAt: string;
  total: number;
  submitted: number;
  counts: Record<string, number>;
  done: boolean;
  skippedTotal: number;
  skipped: Array<{ deviceId: string; reason: string }>;
  devices?: Array<{ deviceId: string; commandId: string; status: string; error: string | null }>;
}

const SELECTOR_LABELS: Record<string, 'family' | 'model' | 'district' | 'ward'> = {
  family: 'family',
  model: 'model',
  district: 'district',
  ward: 'ward',
};

/** Re-read at most this often while command events of the roll-out arrive. */
const THROTTLE_MS = 250;
/**
 * And this often besides: every state change is an event, but a device the roll-out could not
 * give the command (a guard refused it) is not, and the stream may be reconnecting.
 */
const POLL_MS = 3000;

/** A running or finished roll-out: a progress bar, counts by state, the devices that did not succeed. */
export function BulkProgress({ id }: { id: string }) {
  const t = useT(bulkStrings);
  const tc = useT(common);
  const tcmd = useT(commandStrings);
  const [status, setStatus] = useState<BulkStatus | null>(null);
  const [error, setError] = useState<string | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const done = useRef(false);
  const path = `/api/commands/bulk/${encodeURIComponent(id)}`;

  const load = async () => {
    try {
      const s = await api.get<BulkStatus>(`${path}?devices=false`);
      if (s.done && !done.current) {
        done.current = true;
        // Once, at the end: the devices, to list those that did not succeed.
        const full = await api.get<BulkStatus>(`${path}?limit=10000`);
        setStatus(full);
      } else if (!done.current) setStatus(s);
      setError(null);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    }
  };
  /** The next read, no later than `ms` from now: an earlier one already due is kept (a throttle). */
  const dueAt = useRef(0);
  const schedule = (ms: number) => {
    if (done.current) return;
    const at = Date.now() + ms;
    if (timer.current) {
      if (dueAt.current <= at) return;
      clearTimeout(timer.current);
    }
    dueAt.current = at;
    timer.current = setTimeout(async () => {
      timer.current = null;
      await load();
      schedule(POLL_MS);
    }, ms);
  };

  useEffect(() => {
    done.current = false;
    setStatus(null);
    void load().then(() => schedule(POLL_MS));
    return () => {
      if (timer.current) clearTimeout(timer.current);
      timer.current = null;
      done.current = true;
    };
  }, [id]);

  useCommandEvents((events) => {
    if (events.some((e) => e.bulkId === id)) schedule(THROTTLE_MS);
  });

  if (!status)
    return error ? (
      <p role="alert" class="error">
        {tc('error', { message: error })}
      </p>
    ) : (
      <p>{tc('loading')}</p>
    );
  const final = COMMAND_STATES.filter((s) => FINAL_STATES.has(s)).reduce(
    (n, s) => n + (status.counts[s] ?? 0),
    0,
  );
  const percent = status.done ? 100 : status.total ? Math.floor((final / status.total) * 100) : 0;
  const problems = (status.devices ?? []).filter((d) => d.status !== 'succeeded');
  return (
    <div class="grid" data-testid="bulk-progress" data-done={String(status.done)} data-bulk={status.id}>
      <section class="panel" aria-labelledby="h-progress">
        <h2 id="h-progress">
          {t('progress')}: {labelOf(tcmd, 'cmd', status.name)} <code>{JSON.stringify(status.params)}</code>
        </h2>
        <p class="muted">
          {Object.entries(status.selector)
            .map(
              ([k, v]) =>
                `${k in SELECTOR_LABELS ? t(SELECTOR_LABELS[k]) : k}: ${k === 'family' ? tc(`family_${v}` as 'family_streetlight') : String(v)}`,
            )
            .join(' · ')}{' '}
          · {formatNumber(status.ratePerSecond)}/s · {status.requestedBy} · {formatTime(status.createdAt)}
        </p>
        <div class="bulk-bar">
          <progress max={100} value={percent} aria-labelledby="bulk-percent" />
          <strong id="bulk-percent" data-testid="bulk-percent">
            {percent} %
          </strong>
        </div>
        <p role="status" aria-live="polite">
          {status.done ? '✔ ' : '… '}
          {t(status.done ? 'done' : 'running', {
            final: formatNumber(final),
            total: formatNumber(status.total),
          })}
          {' · '}
          {t('submitted', { n: formatNumber(status.submitted), total: formatNumber(status.total) })}
        </p>
        <table class="counts" aria-label={t('counts')}>
          <thead>
            <tr>
              <th scope="col">{t('state')}</th>
              <th scope="col" class="num">
                {t('devices')}
              </th>
            </tr>
          </thead>
          <tbody>
            {COMMAND_STATES.map((s) => (
              <tr data-state={s} class={status.counts[s] ? '' : 'muted'}>
                <th scope="row">
                  <StateBadge state={s} />
                </th>
                <td class="num" data-testid={`count-${s}`}>
                  {formatNumber(status.counts[s] ?? 0)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {status.skippedTotal > 0 && (
          <p class="muted">{t('skipped', { n: formatNumber(status.skippedTotal) })}</p>
        )}
      </section>
      {problems.length > 0 && (
        <section class="panel" aria-labelledby="h-problems">
          <h2 id="h-problems">{t('problems')}</h2>
          <table>
            <thead>
              <tr>
                <th scope="col">{t('device')}</th>
                <th scope="col">{t('state')}</th>
                <th scope="col">{t('error')}</th>
              </tr>
            </thead>
            <tbody>
              {problems.slice(0, 100).map((d) => (
                <tr>
                  <td>
                    <a href={`#/devices/${encodeURIComponent(d.deviceId)}`}>{d.deviceId}</a>
                  </td>
                  <td>
                    <StateBadge state={d.status} />
                  </td>
                  <td>{d.error ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
    </div>
  );
}
