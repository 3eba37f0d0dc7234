import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, useToken } from './api.ts';
import { CriticalCue } from './critical-cue.tsx';
import { districtFilter } from './filter.ts';
import { common } from './i18n/common.ts';
import { LANGS, lang, useT } from './i18n/index.ts';
import { live, startLive, stopLive } from './live.ts';
import { location, match } from './router.ts';
import { ROUTES } from './routes.ts';
import {
  may,
  type Role,
  type Session,
  session,
  storedToken,
  storeToken,
  takeTokenFromLink,
} from './session.ts';
import { useValue } from './state.ts';

async function signIn(token: string): Promise<void> {
  useToken(token, signOut);
  // The city's snapshot loads while the token is checked; a refused token stops it.
  const loading = startLive();
  try {
    const me = await api.get<{ name: string; role: Role }>('/api/me');
    performance.mark('citygate:signed-in');
    storeToken(token);
    session.set({ token, ...me });
  } catch (err) {
    stopLive();
    throw err;
  }
  await loading;
}

function signOut(): void {
  stopLive();
  storeToken(null);
  useToken(null);
  session.set(null);
}

export function App() {
  const s = useValue(session);
  const [booting, setBooting] = useState(true);
  useEffect(() => {
    const token = takeTokenFromLink() ?? storedToken();
    if (!token) return setBooting(false);
    signIn(token)
      .catch(() => signOut())
      .finally(() => setBooting(false));
  }, []);
  if (booting) return null;
  return s ? <Shell session={s} /> : <SignIn />;
}

function SignIn() {
  const t = useT(common);
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      await signIn(token.trim());
    } catch (err) {
      useToken(null);
      setError(t('signInFailed', { message: err instanceof ApiError ? err.message : String(err) }));
    }
  };
  return (
    <main class="signin">
      <h1>{t('title')}</h1>
      <form onSubmit={submit} aria-describedby="token-help">
        <label for="token">{t('token')}</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="off"
          required
          value={token}
          onInput={(e) => setToken((e.target as HTMLInputElement).value)}
        />
        <p id="token-help" class="muted">
          {t('tokenHelp')}
        </p>
        <button type="submit">{t('signIn')}</button>
        {error && (
          <p role="alert" class="error">
            {error}
          </p>
        )}
      </form>
      <LangSwitch />
    </main>
  );
}

function LangSwitch() {
  const t = useT(common);
  const l = useValue(lang);
  return (
    <label class="lang">
      {t('language')}{' '}
      <select value={l} onChange={(e) => lang.set((e.target as HTMLSelectElement).value as 'vi' | 'en')}>
        {LANGS.map((code) => (
          <option value={code}>{code === 'vi' ? 'Tiếng Việt' : 'English'}</option>
        ))}
      </select>
    </label>
  );
}

const CONNECTION_ICON = { live: '●', connecting: '◌', offline: '✕' } as const;

function Shell({ session: s }: { session: Session }) {
  const t = useT(common);
  const loc = useValue(location);
  const connection = useValue(live.connection);
  const district = useValue(districtFilter);
  const found = match(ROUTES, loc.path);
  const View = found?.route.view;
  return (
    <>
      <button type="button" class="skip" onClick={() => document.getElementById('main')?.focus()}>
        {t('skipToContent')}
      </button>
      <header class="top">
        <strong class="brand">citygate</strong>
        <nav aria-label="main">
          {ROUTES.filter((r) => r.nav && may(s.role, r.least ?? 'viewer')).map((r) => (
            <a href={`#${r.path}`} aria-current={found?.route === r ? 'page' : undefined}>
              {t(r.nav as 'overview')}
            </a>
          ))}
        </nav>
        {district && (
          <span class="chip" data-testid="district-filter">
            {t('district')}: {district}{' '}
            <button type="button" onClick={() => districtFilter.set(null)} aria-label={t('clearFilter')}>
              ✕
            </button>
          </span>
        )}
        <span class={`conn conn-${connection}`} role="status" data-connection={connection}>
          <span aria-hidden="true">{CONNECTION_ICON[connection]}</span>{' '}
          {t(connection === 'live' ? 'live' : connection)}
        </span>
        <span class="who" data-role={s.role}>
          {s.name} · {t(`role_${s.role}`)}
        </span>
        <CriticalCue />
        <LangSwitch />
        <button type="button" onClick={signOut}>
          {t('signOut')}
        </button>
      </header>
      <main id="main" tabIndex={-1} data-path={loc.path}>
        {View ? <View params={found.params} query={loc.query} /> : <p>{t('notFound')}</p>}
      </main>
    </>
  );
}
