import './device.css';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, api } from '../api.ts';
import { type ModelCommand, type ModelView, needsConfirm } from '../commands.ts';
import { bulkStrings } from '../i18n/bulk.ts';
import { commandStrings } from '../i18n/commands.ts';
import { common } from '../i18n/common.ts';
import { formatNumber, useT } from '../i18n/index.ts';
import { navigate } from '../router.ts';
import { may, useRole } from '../session.ts';
import { type Preview, PreviewNote } from './bulk-preview-note.tsx';
import { BulkProgress } from './bulk-progress.tsx';
import { CommandFields, type Draft, describe, draftFrom, labelOf, paramsFrom } from './command-fields.tsx';

interface Count {
  name: string;
  devices: number;
}
interface Targets {
  families: Count[];
  models: Array<Count & { family: string }>;
  districts: Array<Count & { wards: Count[] }>;
}
type Selector = { family: string; model: string; district: string; ward: string };

const EMPTY: Selector = { family: '', model: '', district: '', ward: '' };
const DEFAULT_RATE = '100';

/** `#/bulk`: pick devices, preview how many match, set a rate, start; `#/bulk?id=` watches one. */
export function BulkView({ query }: { query: URLSearchParams }) {
  const t = useT(bulkStrings);
  const role = useRole();
  const watching = query.get('id');
  if (!may(role, 'operator'))
    return (
      <section data-view="bulk">
        <h1>{t('title')}</h1>
        <p>{t('viewerNotAllowed')}</p>
      </section>
    );
  return (
    <section data-view="bulk" class="device-page" aria-labelledby="bulk-title">
      <h1 id="bulk-title">{t('title')}</h1>
      {watching ? (
        <>
          <BulkProgress id={watching} />
          <p>
            <button type="button" onClick={() => navigate('/bulk')}>
              {t('newBulk')}
            </button>
          </p>
        </>
      ) : (
        <BulkForm />
      )}
    </section>
  );
}

function BulkForm() {
  const t = useT(bulkStrings);
  const tc = useT(common);
  const tcmd = useT(commandStrings);
  const [targets, setTargets] = useState<Targets | null>(null);
  const [models, setModels] = useState<ModelView[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [sel, setSel] = useState<Selector>(EMPTY);
  const [name, setName] = useState('');
  const [draft, setDraft] = useState<Draft>({});
  const [rate, setRate] = useState(DEFAULT_RATE);
  const [preview, setPreview] = useState<Preview | null>(null);
  const [previewing, setPreviewing] = useState(false);
  const [confirming, setConfirming] = useState<Record<string, unknown> | null>(null);
  const [busy, setBusy] = useState(false);
  const confirmButton = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    Promise.all([
      api.get<Targets>('/api/commands/bulk/targets'),
      api.get<{ models: ModelView[] }>('/api/models'),
    ])
      .then(([tg, m]) => {
        setTargets(tg);
        setModels(m.models);
      })
      .catch((err) => setError(String(err instanceof ApiError ? err.message : err)));
  }, []);
  useEffect(() => confirmButton.current?.focus(), [confirming]);

  // The commands the picked devices may take: of the picked model, of the family's models, or of any.
  const commands = useMemo(() => {
    const present = new Set(targets?.models.map((m) => m.name));
    const pool = models.filter(
      (m) =>
        present.has(m.id) && (!sel.model || m.id === sel.model) && (!sel.family || m.family === sel.family),
    );
    const byName = new Map<string, ModelCommand>();
    for (const m of pool) for (const c of m.commands) if (!byName.has(c.name)) byName.set(c.name, c);
    return [...byName.values()];
  }, [models, targets, sel.family, sel.model]);
  const cmd = commands.find((c) => c.name === name) ?? commands[0];
  useEffect(() => {
    if (cmd && cmd.name !== name) {
      setName(cmd.name);
      setDraft(draftFrom(cmd));
    }
  }, [cmd?.name]);

  const selector = Object.fromEntries(Object.entries(sel).filter(([, v]) => v !== ''));
  const hasSelector = Object.keys(selector).length > 0;
  const parsed = cmd ? paramsFrom(tcmd, cmd.fields, draft) : null;
  const params = parsed && 'params' in parsed ? parsed.params : null;
  const rateN = Number(rate);
  const rateOk = Number.isInteger(rateN) && rateN >= 1 && rateN <= 10_000;

  // Preview as the choice changes (debounced): nothing is sent.
  const key = JSON.stringify([selector, cmd?.name, params]);
  useEffect(() => {
    setConfirming(null);
    if (!hasSelector || !cmd || !params) return setPreview(null);
    let gone = false;
    setPreviewing(true);
    const timer = setTimeout(() => {
      api
        .post<Preview>('/api/commands/bulk/preview', { selector, name: cmd.name, params })
        .then((p) => !gone && setPreview(p))
        .catch((err) => !gone && setError(String(err instanceof ApiError ? err.message : err)))
        .finally(() => !gone && setPreviewing(false));
    }, 250);
    return () => {
      gone = true;
      clearTimeout(timer);
    };
  }, [key]);

  const start = async (confirmed: Record<string, unknown>) => {
    if (!cmd) return;
    setBusy(true);
    setError(null);
    try {
      const res = await api.post<{ id: string }>('/api/commands/bulk', {
        selector,
        name: cmd.name,
        params: confirmed,
        ratePerSecond: rateN,
        ...(preview?.needsConfirm ? { confirm: true } : {}),
      });
      navigate(`/bulk?id=${encodeURIComponent(res.id)}`);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
      setConfirming(null);
    } finally {
      setBusy(false);
    }
  };

  if (!targets)
    return error ? (
      <p role="alert" class="error">
        {tc('error', { message: error })}
      </p>
    ) : (
      <p>{tc('loading')}</p>
    );
  const set = (k: keyof Selector, v: string) =>
    setSel((s) => ({
      ...s,
      [k]: v,
      ...(k === 'family' ? { model: '' } : {}),
      ...(k === 'district' ? { ward: '' } : {}),
    }));
  const wards = targets.districts.find((d) => d.name === sel.district)?.wards ?? [];
  const modelChoices = targets.models.filter((m) => !sel.family || m.family === sel.family);
  const picker = (k: keyof Selector, label: string, options: Array<{ value: string; text: string }>) => (
    <div class="field">
      <label for={`bulk-${k}`}>{label}</label>
      <select
        id={`bulk-${k}`}
        name={k}
        value={sel[k]}
        onChange={(e) => set(k, (e.target as HTMLSelectElement).value)}
      >
        <option value="">{t('any')}</option>
        {options.map((o) => (
          <option value={o.value}>{o.text}</option>
        ))}
      </select>
    </div>
  );
  const problem = parsed && 'problem' in parsed ? parsed.problem : null;
  const canStart =
    hasSelector && cmd && params && rateOk && preview && preview.eligible > 0 && !previewing && !busy;

  return (
    <div class="device-grid">
      <section class="panel" aria-labelledby="h-target">
        <h2 id="h-target">{t('target')}</h2>
        {picker(
          'family',
          t('family'),
          targets.families.map((f) => ({
            value: f.name,
            text: `${tc(`family_${f.name}` as 'family_streetlight')} (${f.devices})`,
          })),
        )}
        {picker(
          'model',
          t('model'),
          modelChoices.map((m) => ({ value: m.name, text: `${m.name} (${m.devices})` })),
        )}
        {picker(
          'district',
          t('district'),
          targets.districts.map((d) => ({ value: d.name, text: `${d.name} (${d.devices})` })),
        )}
        {sel.district &&
          picker(
            'ward',
            t('ward'),
            wards.map((w) => ({ value: w.name, text: `${w.name} (${w.devices})` })),
          )}
        {!hasSelector && <p class="muted">{t('pickSomething')}</p>}
      </section>
      <section class="panel" aria-labelledby="h-bulk-cmd">
        <h2 id="h-bulk-cmd">{tcmd('command')}</h2>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (canStart) setConfirming(params);
          }}
        >
          {commands.length > 0 && cmd && (
            <>
              <div class="field">
                <label for="bulk-command">{tcmd('command')}</label>
                <select
                  id="bulk-command"
                  name="command"
                  value={cmd.name}
                  onChange={(e) => {
                    const c = commands.find((x) => x.name === (e.target as HTMLSelectElement).value);
                    if (c) {
                      setName(c.name);
                      setDraft(draftFrom(c));
                    }
                  }}
                >
                  {commands.map((c) => (
                    <option value={c.name}>{labelOf(tcmd, 'cmd', c.name)}</option>
                  ))}
                </select>
              </div>
              <CommandFields cmd={cmd} draft={draft} onChange={setDraft} idPrefix="bulk-param" />
            </>
          )}
          <div class="field">
            <label for="bulk-rate">{t('rate')}</label>
            <input
              id="bulk-rate"
              name="rate"
              type="number"
              min={1}
              max={10000}
              step={1}
              required
              aria-describedby="bulk-rate-help"
              value={rate}
              onInput={(e) => setRate((e.target as HTMLInputElement).value)}
            />
            <span id="bulk-rate-help" class="muted">
              {t('rateHelp')}
            </span>
          </div>
          {problem && (
            <p role="alert" class="error">
              {problem}
            </p>
          )}
          <PreviewNote preview={preview} previewing={previewing} rate={rateOk ? rateN : null} />
          {error && (
            <p role="alert" class="error">
              {tc('error', { message: error })}
            </p>
          )}
          {!confirming && (
            <button type="submit" class="primary" disabled={!canStart}>
              {t('start')}
            </button>
          )}
        </form>
        {confirming && cmd && preview && (
          <div
            class="confirm"
            role="alertdialog"
            onKeyDown={(e) => e.key === 'Escape' && setConfirming(null)}
            aria-labelledby="bulk-confirm-title"
            aria-describedby="bulk-confirm-text"
          >
            <h3 id="bulk-confirm-title">⚠ {t('confirmTitle')}</h3>
            <p id="bulk-confirm-text">
              {t('confirmText', {
                command: labelOf(tcmd, 'cmd', cmd.name),
                params: JSON.stringify(confirming),
                n: formatNumber(preview.eligible),
                rate: formatNumber(rateN),
              })}
            </p>
            {(preview.needsConfirm || needsConfirm(cmd, confirming)) && (
              <p>{tcmd('confirmGuard', { what: describe(tcmd, cmd) })}</p>
            )}
            <button
              type="button"
              class="danger"
              ref={confirmButton}
              disabled={busy}
              onClick={() => start(confirming)}
            >
              {t('confirmStart')}
            </button>{' '}
            <button type="button" onClick={() => setConfirming(null)}>
              {tcmd('cancel')}
            </button>
          </div>
        )}
      </section>
    </div>
  );
}
