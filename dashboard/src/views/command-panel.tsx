import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api } from '../api.ts';
import {
  type CommandState,
  type CommandView,
  FINAL_STATES,
  type ModelCommand,
  needsConfirm,
  useCommandEvents,
} from '../commands.ts';
import { commandStrings } from '../i18n/commands.ts';
import { formatTime, useT } from '../i18n/index.ts';
import { live } from '../live.ts';
import { useValue } from '../state.ts';
import {
  CommandFields,
  type Draft,
  describe,
  draftFrom,
  labelOf,
  paramsFrom,
  StateBadge,
} from './command-fields.tsx';

const PATH: CommandState[] = ['queued', 'sent', 'delivered', 'succeeded'];
const FALLBACK_POLL_MS = 3000;

/** Of two statuses of one command, the one further along its lifecycle (a final one is final). */
function further(a: string, b: string | undefined): CommandState {
  if (b === undefined || FINAL_STATES.has(a)) return a as CommandState;
  if (FINAL_STATES.has(b)) return b as CommandState;
  return (PATH.indexOf(b as CommandState) > PATH.indexOf(a as CommandState) ? b : a) as CommandState;
}

/**
 * The command form of the device page, generated from the model's command schema; a guarded
 * command asks for a confirmation step first. The sent command's state follows the events stream
 * to its final state.
 */
export function CommandPanel(props: { deviceId: string; commands: ModelCommand[]; onFinal(): void }) {
  const t = useT(commandStrings);
  const { deviceId, commands } = props;
  const [name, setName] = useState(commands[0]?.name ?? '');
  const cmd = commands.find((c) => c.name === name) ?? commands[0];
  const [draft, setDraft] = useState<Draft>(() => (cmd ? draftFrom(cmd) : {}));
  const [problem, setProblem] = useState<string | null>(null);
  const [confirming, setConfirming] = useState<Record<string, unknown> | null>(null);
  const [busy, setBusy] = useState(false);
  const [answer, setSent] = useState<CommandView | null>(null);
  /**
   * The furthest status seen on the stream, by command id. The stream and the API answers race
   * (a reply can beat the POST's answer, a GET can be older than the last event), so the page
   * shows whichever is further along.
   */
  const seen = useRef(new Map<string, string>());
  const [, bump] = useState(0);
  const sent = answer && { ...answer, status: further(answer.status, seen.current.get(answer.id)) };
  const sentId = useRef<string | null>(null);
  sentId.current = sent?.id ?? null;
  const confirmButton = useRef<HTMLButtonElement>(null);
  const onFinal = useRef(props.onFinal);
  onFinal.current = props.onFinal;

  useEffect(() => confirmButton.current?.focus(), [confirming]);

  const refresh = async (id: string) => {
    const full = await api.get<CommandView>(`/api/commands/${encodeURIComponent(id)}`);
    setSent((cur) => (cur?.id === id ? full : cur));
    if (FINAL_STATES.has(full.status)) onFinal.current();
  };

  useCommandEvents((events) => {
    let changed = false;
    for (const e of events) {
      if (e.deviceId !== deviceId) continue;
      const before = seen.current.get(e.commandId);
      const after = further(e.status, before);
      seen.current.set(e.commandId, after);
      if (e.commandId !== sentId.current || after === before) continue;
      changed = true;
      // The final answer carries the result or the error: read it once.
      if (FINAL_STATES.has(after)) void refresh(e.commandId).catch(() => {});
    }
    if (changed) bump((n) => n + 1);
  });

  // Without the events stream (reconnecting), the API is asked instead, every few seconds.
  const connection = useValue(live.connection);
  const waiting = sent !== null && !FINAL_STATES.has(sent.status) ? sent.id : null;
  useEffect(() => {
    if (!waiting || connection === 'live') return;
    const timer = setInterval(() => void refresh(waiting).catch(() => {}), FALLBACK_POLL_MS);
    return () => clearInterval(timer);
  }, [waiting, connection]);

  if (!cmd) return null;

  const choose = (next: string) => {
    setName(next);
    const c = commands.find((x) => x.name === next);
    if (c) setDraft(draftFrom(c));
    setProblem(null);
    setConfirming(null);
  };

  const send = async (params: Record<string, unknown>, confirm: boolean) => {
    setBusy(true);
    setProblem(null);
    try {
      const created = await api.post<CommandView>(`/api/devices/${encodeURIComponent(deviceId)}/commands`, {
        name: cmd.name,
        params,
        ...(confirm ? { confirm: true } : {}),
      });
      setSent(created);
      setConfirming(null);
      // Events before this answer are in `seen`; the rest come on the stream.
      await refresh(created.id);
    } catch (err) {
      // The gateway's guard is the authority: a confirm the form did not foresee is asked for here.
      if (err instanceof ApiError && err.code === 'CMD_ERR_CONFIRM_REQUIRED' && !confirm)
        setConfirming(params);
      else setProblem(err instanceof ApiError ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  const submit = (e: Event) => {
    e.preventDefault();
    const parsed = paramsFrom(t, cmd.fields, draft);
    if ('problem' in parsed) return setProblem(parsed.problem);
    if (needsConfirm(cmd, parsed.params)) return setConfirming(parsed.params);
    void send(parsed.params, false);
  };

  return (
    <div class="command-panel" data-testid="command-panel">
      <form onSubmit={submit} class="command-form" aria-label={t('command')}>
        <div class="field">
          <label for="cmd-name">{t('command')}</label>
          <select
            id="cmd-name"
            name="command"
            value={cmd.name}
            onChange={(e) => choose((e.target as HTMLSelectElement).value)}
          >
            {commands.map((c) => (
              <option value={c.name}>{labelOf(t, 'cmd', c.name)}</option>
            ))}
          </select>
        </div>
        <p class="muted">{describe(t, cmd)}</p>
        <CommandFields cmd={cmd} draft={draft} onChange={setDraft} idPrefix="cmd" />
        {cmd.guards.minIntervalSeconds !== null && (
          <p class="muted">{t('onceEvery', { seconds: cmd.guards.minIntervalSeconds })}</p>
        )}
        {problem && (
          <p role="alert" class="error">
            {problem}
          </p>
        )}
        {!confirming && (
          <button type="submit" class="primary" disabled={busy}>
            {busy ? t('sending') : t('send')}
          </button>
        )}
      </form>
      {confirming && (
        <div
          class="confirm"
          role="alertdialog"
          onKeyDown={(e) => e.key === 'Escape' && setConfirming(null)}
          aria-labelledby="confirm-title"
          aria-describedby="confirm-text"
        >
          <h3 id="confirm-title">⚠ {t('confirmTitle')}</h3>
          <p id="confirm-text">{t('confirmGuard', { what: describe(t, cmd) })}</p>
          <pre class="raw">{JSON.stringify(confirming)}</pre>
          <button
            type="button"
            class="danger"
            ref={confirmButton}
            disabled={busy}
            onClick={() => send(confirming, true)}
          >
            {t('confirmSend')}
          </button>{' '}
          <button type="button" onClick={() => setConfirming(null)}>
            {t('cancel')}
          </button>
        </div>
      )}
      {sent && <Progress command={sent} />}
    </div>
  );
}

/** The sent command's steps, the current one marked; its final state read out to screen readers. */
function Progress({ command }: { command: CommandView }) {
  const t = useT(commandStrings);
  const final = FINAL_STATES.has(command.status);
  const reached = PATH.indexOf(command.status);
  return (
    <section
      class="progress"
      aria-label={t('progress')}
      data-testid="command-progress"
      data-status={command.status}
    >
      <h3>
        {labelOf(t, 'cmd', command.name)} <code>{JSON.stringify(command.params)}</code>
      </h3>
      <ol class="steps">
        {PATH.map((s, i) => (
          <li class={i <= reached ? 'done' : ''} aria-current={s === command.status ? 'step' : undefined}>
            <StateBadge state={s} />
          </li>
        ))}
        {final && command.status !== 'succeeded' && (
          <li aria-current="step">
            <StateBadge state={command.status} />
          </li>
        )}
      </ol>
      <p role="status" aria-live="polite">
        {final ? (
          t('finalState', { state: labelOf(t, 'state', command.status) })
        ) : (
          <StateBadge state={command.status} />
        )}
      </p>
      {command.error && <p class="error">{command.error}</p>}
      {command.result && (
        <p>
          {t('result')}: <code>{JSON.stringify(command.result)}</code>
        </p>
      )}
      {command.history && (
        <ul class="history">
          {command.history.map((h) => (
            <li>
              {formatTime(h.at)} · <StateBadge state={h.status} /> {h.detail ? `· ${h.detail}` : ''}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
