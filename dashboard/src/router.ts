import type { ComponentType } from 'preact';
import type { Role } from './session.ts';
import { value } from './state.ts';

/** A view of the hash router; `path` may hold `:name` parameters (`/devices/:id`). */
export interface Route {
  path: string;
  view: ComponentType<{ params: Record<string, string>; query: URLSearchParams }>;
  /** The key of its label in i18n/common.ts when it has a link in the navigation bar. */
  nav?: string;
  /** The least role that sees the link (the API still checks every call). */
  least?: Role;
}

export interface Location {
  path: string;
  query: URLSearchParams;
}

function parse(hash: string): Location {
  const raw = hash.replace(/^#/, '') || '/';
  const [path, q = ''] = raw.split('?', 2);
  return { path: path.startsWith('/') ? path : `/${path}`, query: new URLSearchParams(q) };
}

export const location = value<Location>(parse(window.location.hash));
/** Reads the address again (after history.replaceState, which fires no hashchange). */
export function refreshLocation(): void {
  location.set(parse(window.location.hash));
}
window.addEventListener('hashchange', refreshLocation);

export function navigate(path: string): void {
  window.location.hash = path;
}

export function match(routes: readonly Route[], path: string) {
  const parts = path.split('/').filter(Boolean);
  for (const route of routes) {
    const want = route.path.split('/').filter(Boolean);
    if (want.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    want.forEach((w, i) => {
      if (w.startsWith(':')) params[w.slice(1)] = decodeURIComponent(parts[i]);
      else if (w !== parts[i]) ok = false;
    });
    if (ok) return { route, params };
  }
  return null;
}
