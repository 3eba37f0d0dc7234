import { refreshLocation } from './router.ts';
import { useValue, value } from './state.ts';

/** The signed-in token, kept for this browser tab only (sessionStorage), and the role it has. */
export type Role = 'viewer' | 'operator' | 'admin';
const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };
const KEY = 'citygate.token';

export interface Session {
  token: string;
  name: string;
  role: Role;
}

export function storedToken(): string | null {
  return sessionStorage.getItem(KEY);
}

export function storeToken(token: string | null): void {
  if (token) sessionStorage.setItem(KEY, token);
  else sessionStorage.removeItem(KEY);
}

/**
 * A sign-in link `/#token=…` (printed by `npm run demo`): the token is taken and removed from the
 * address bar, so it does not stay in the history or get copied along with the URL.
 */
export function takeTokenFromLink(): string | null {
  const m = /^#token=([^&]+)/.exec(location.hash);
  if (!m) return null;
  history.replaceState(null, '', `${location.pathname}${location.search}#/`);
  refreshLocation();
  return decodeURIComponent(m[1]);
}

/** True when the role may do what needs `least` (viewer < operator < admin). */
export function may(role: Role | undefined, least: Role): boolean {
  return role !== undefined && RANK[role] >= RANK[least];
}

/** The signed-in user; null before sign-in. Views read it to hide what the role may not do. */
export const session = value<Session | null>(null);

export function useRole(): Role | undefined {
  return useValue(session)?.role;
}
