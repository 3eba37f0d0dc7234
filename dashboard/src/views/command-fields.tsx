import { type CommandField, type ModelCommand, STATE_GLYPH } from '../commands.ts';
import { commandStrings } from '../i18n/commands.ts';
import { useT } from '../i18n/index.ts';

type T = ReturnType<typeof useT<keyof (typeof commandStrings)['vi']>>;

/** A label from the strings when there is one, else the name the spec gave. */
export function labelOf(t: T, prefix: 'cmd' | 'param' | 'state' | 'desc', name: string): string {
  const key = `${prefix}_${name}` as keyof (typeof commandStrings)['vi'];
  return key in commandStrings.vi ? t(key) : name;
}

/** What a command does, in the user's language when we have its words, else the spec's. */
export function describe(t: T, cmd: { name: string; description: string | null }): string {
  const own = labelOf(t, 'desc', cmd.name);
  return own !== cmd.name ? own : (cmd.description ?? labelOf(t, 'cmd', cmd.name));
}

/** Form values as typed (numbers stay text until checked, so a half-typed "-" is not lost). */
export type Draft = Record<string, string | boolean>;

export function draftFrom(cmd: ModelCommand): Draft {
  const draft: Draft = {};
  for (const f of cmd.fields) {
    const ex = cmd.example?.[f.name];
    draft[f.name] = f.type === 'boolean' ? ex === true : ex === undefined ? '' : String(ex);
  }
  return draft;
}

/** The params the draft asks for, or the first problem, in the user's language. */
export function paramsFrom(
  t: T,
  fields: CommandField[],
  draft: Draft,
): { params: Record<string, unknown> } | { problem: string } {
  const params: Record<string, unknown> = {};
  for (const f of fields) {
    const raw = draft[f.name];
    const field = labelOf(t, 'param', f.name);
    if (f.type === 'boolean') {
      params[f.name] = raw === true;
      continue;
    }
    const text = String(raw ?? '').trim();
    if (text === '') {
      if (f.required) return { problem: t('required', { field }) };
      continue;
    }
    if (f.type === 'enum') {
      params[f.name] = f.enum?.find((v) => String(v) === text) ?? text;
      continue;
    }
    if (f.type === 'string') {
      params[f.name] = text;
      continue;
    }
    const n = Number(text);
    if (!Number.isFinite(n)) return { problem: t('notNumber', { field }) };
    if (f.type === 'integer' && !Number.isInteger(n)) return { problem: t('notInteger', { field }) };
    if ((f.minimum !== null && n < f.minimum) || (f.maximum !== null && n > f.maximum))
      return { problem: t('outOfRange', { field, min: f.minimum ?? '−∞', max: f.maximum ?? '∞' }) };
    params[f.name] = n;
  }
  return { params };
}

/** One input per param, from the command's schema: numbers with their range and unit, enums, switches. */
export function CommandFields(props: {
  cmd: ModelCommand;
  draft: Draft;
  onChange(draft: Draft): void;
  idPrefix: string;
}) {
  const t = useT(commandStrings);
  const { cmd, draft, onChange, idPrefix } = props;
  const set = (name: string, v: string | boolean) => onChange({ ...draft, [name]: v });
  return (
    <>
      {cmd.fields.map((f) => {
        const id = `${idPrefix}-${f.name}`;
        const label = labelOf(t, 'param', f.name);
        const hintId = `${id}-hint`;
        const bounded = f.minimum !== null && f.maximum !== null;
        const hint = [bounded ? t('range', { min: f.minimum!, max: f.maximum! }) : '', f.unit ?? '']
          .filter(Boolean)
          .join(' ');
        if (f.type === 'boolean')
          return (
            <div class="field" key={id}>
              <label for={id}>
                <input
                  id={id}
                  name={f.name}
                  type="checkbox"
                  checked={draft[f.name] === true}
                  onChange={(e) => set(f.name, (e.target as HTMLInputElement).checked)}
                />{' '}
                {label}
              </label>
            </div>
          );
        if (f.type === 'enum')
          return (
            <div class="field" key={id}>
              <label for={id}>{label}</label>
              <select
                id={id}
                name={f.name}
                value={String(draft[f.name] ?? '')}
                onChange={(e) => set(f.name, (e.target as HTMLSelectElement).value)}
              >
                {f.enum!.map((v) => (
                  <option value={String(v)}>{String(v)}</option>
                ))}
              </select>
            </div>
          );
        const numeric = f.type === 'integer' || f.type === 'number';
        return (
          <div class="field" key={id}>
            <label for={id}>
              {label}
              {f.unit ? ` (${f.unit})` : ''}
            </label>
            <span class="field-row">
              {numeric && bounded && (
                <input
                  type="range"
                  aria-hidden="true"
                  tabIndex={-1}
                  min={f.minimum!}
                  max={f.maximum!}
                  step={f.type === 'integer' ? 1 : 'any'}
                  value={String(draft[f.name] ?? '')}
                  onInput={(e) => set(f.name, (e.target as HTMLInputElement).value)}
                />
              )}
              <input
                id={id}
                name={f.name}
                type={numeric ? 'number' : 'text'}
                inputMode={numeric ? 'decimal' : undefined}
                min={f.minimum ?? undefined}
                max={f.maximum ?? undefined}
                step={f.type === 'integer' ? 1 : 'any'}
                required={f.required}
                aria-describedby={hint ? hintId : undefined}
                value={String(draft[f.name] ?? '')}
                onInput={(e) => set(f.name, (e.target as HTMLInputElement).value)}
              />
              {hint && (
                <span id={hintId} class="muted">
                  {hint}
                </span>
              )}
            </span>
          </div>
        );
      })}
    </>
  );
}

/** A command state as a glyph and a word, never by colour alone. */
export function StateBadge({ state }: { state: string }) {
  const t = useT(commandStrings);
  return (
    <span class={`cmd-state cmd-${state}`} data-state={state}>
      <span aria-hidden="true">{GLYPHS[state] ?? '•'}</span> {labelOf(t, 'state', state)}
    </span>
  );
}

const GLYPHS: Record<string, string> = STATE_GLYPH;
