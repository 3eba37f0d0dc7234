import { useEffect, useState } from 'preact/hooks';
import { api, query } from '../api.ts';
import { districtFilter } from '../filter.ts';
import { common } from '../i18n/common.ts';
import { formatNumber, formatTime, useT } from '../i18n/index.ts';
import { quarantine as strings } from '../i18n/quarantine.ts';
import { live } from '../live.ts';
import { navigate } from '../router.ts';
import { useValue } from '../state.ts';

interface QuarantineEntry {
  id: number;
  deviceId: string;
  topic: string;
  payload: string;
  payloadEncoding: 'utf8' | 'base64';
  size: number;
  truncated: boolean;
  reasons: Array<{ path: string; message: string }>;
  receivedAt: string;
}
interface DeadLetter {
  id: number;
  at: string;
  line: string;
  reason: string;
}
interface Page<T> {
  total: number;
  entries: T[];
  next: string | null;
}

/** Rejected readings (`GET /api/quarantine`) and refused lines (`GET /api/sink/dead-letters`), newest first. */
export function QuarantineView({ query: q }: { query: URLSearchParams }) {
  const t = useT(strings);
  const tab = q.get('tab') === 'dead-letters' ? 'dead-letters' : 'quarantine';
  return (
    <section data-view="quarantine">
      <h1>{t('heading')}</h1>
      <div role="tablist" class="tabs">
        {(['quarantine', 'dead-letters'] as const).map((name) => (
          <button
            type="button"
            role="tab"
            aria-selected={tab === name}
            onClick={() => navigate(name === 'quarantine' ? '/quarantine' : '/quarantine?tab=dead-letters')}
          >
            {t(name === 'quarantine' ? 'quarantineTab' : 'deadLettersTab')}
          </button>
        ))}
      </div>
      {tab === 'quarantine' ? <Quarantine device={q.get('device') ?? ''} /> : <DeadLetters />}
    </section>
  );
}

function usePages<T>(first: string) {
  const [page, setPage] = useState<Page<T> | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const abort = new AbortController();
    setPage(null);
    setError(null);
    api
      .get<Page<T>>(first, abort.signal)
      .then(setPage)
      .catch((err) => abort.signal.aborted || setError((err as Error).message));
    return () => abort.abort();
  }, [first]);
  const more = async () => {
    if (!page?.next) return;
    try {
      const next = await api.get<Page<T>>(page.next);
      setPage({ total: next.total, entries: [...page.entries, ...next.entries], next: next.next });
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return { page, error, more };
}

function Quarantine({ device }: { device: string }) {
  const t = useT(strings);
  const c = useT(common);
  const [typed, setTyped] = useState(device);
  const district = useValue(districtFilter);
  const { page, error, more } = usePages<QuarantineEntry>(
    `/api/quarantine${query({ deviceId: device, limit: 50 })}`,
  );
  const city = live.city;
  const inDistrict = (id: string) => {
    if (!district || !city) return true;
    const i = city.index.get(id);
    return i !== undefined && city.districts[city.district[i]].name === district;
  };
  const entries = page?.entries.filter((e) => inDistrict(e.deviceId)) ?? [];
  return (
    <div class="panel">
      <p class="muted">{t('quarantineHelp')}</p>
      <form
        class="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          navigate(`/quarantine${query({ device: typed.trim() })}`);
        }}
      >
        <label>
          {t('deviceFilter')}{' '}
          <input
            value={typed}
            maxLength={100}
            onInput={(e) => setTyped((e.target as HTMLInputElement).value)}
          />
        </label>
        <button type="submit">↵</button>
        {page && (
          <span class="muted" data-testid="quarantine-total">
            {t('total', { count: formatNumber(page.total) })}
          </span>
        )}
        {district && <span class="muted">{t('inDistrict', { name: district })}</span>}
      </form>
      {error && (
        <p role="alert" class="error">
          {c('error', { message: error })}
        </p>
      )}
      {!page && !error && <p>{c('loading')}</p>}
      {page && entries.length === 0 && <p class="muted">{t('empty')}</p>}
      {entries.length > 0 && (
        <table data-testid="quarantine-list">
          <thead>
            <tr>
              <th>{t('received')}</th>
              <th>{t('device')}</th>
              <th>{t('reasons')}</th>
              <th>{t('payload')}</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e) => (
              <tr data-entry={e.id}>
                <td>{formatTime(e.receivedAt)}</td>
                <td>
                  <a href={`#/devices/${encodeURIComponent(e.deviceId)}`}>{e.deviceId}</a>
                  <div class="muted small">{e.topic}</div>
                </td>
                <td>
                  <ul class="reasons">
                    {e.reasons.map((r) => (
                      <li>
                        <code>{r.path || '(payload)'}</code>: {r.message}
                      </li>
                    ))}
                  </ul>
                </td>
                <td class="raw-cell">
                  <details>
                    <summary>
                      {t('showRaw')} ({formatNumber(e.size)} B{e.truncated ? `, ${t('truncated')}` : ''}
                      {e.payloadEncoding === 'base64' ? `, ${t('encoding')} base64` : ''})
                    </summary>
                    <pre class="raw">{e.payload}</pre>
                  </details>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {page?.next && (
        <button type="button" onClick={more}>
          {t('loadMore')}
        </button>
      )}
    </div>
  );
}

function DeadLetters() {
  const t = useT(strings);
  const c = useT(common);
  const { page, error, more } = usePages<DeadLetter>('/api/sink/dead-letters?limit=50');
  return (
    <div class="panel">
      <p class="muted">{t('deadLettersHelp')}</p>
      {page && (
        <p class="muted" data-testid="dead-letter-total">
          {t('total', { count: formatNumber(page.total) })}
        </p>
      )}
      {error && (
        <p role="alert" class="error">
          {c('error', { message: error })}
        </p>
      )}
      {!page && !error && <p>{c('loading')}</p>}
      {page && page.entries.length === 0 && <p class="muted">{t('empty')}</p>}
      {page && page.entries.length > 0 && (
        <table data-testid="dead-letter-list">
          <thead>
            <tr>
              <th>{t('at')}</th>
              <th>{t('reason')}</th>
              <th>{t('line')}</th>
            </tr>
          </thead>
          <tbody>
            {page.entries.map((d) => (
              <tr data-entry={d.id}>
                <td>{formatTime(d.at)}</td>
                <td>{d.reason}</td>
                <td>
                  <pre class="raw">{d.line}</pre>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {page?.next && (
        <button type="button" onClick={more}>
          {t('loadMore')}
        </button>
      )}
    </div>
  );
}
