import { z } from 'zod';

/** Every list in the API answers at most this many items per page. */
export const MAX_PAGE = 1000;
export const DEFAULT_PAGE = 100;

export const pageLimit = z.coerce.number().int().min(1).max(MAX_PAGE).default(DEFAULT_PAGE);

/** The link to the next page: the same query with the cursor moved on; null on the last page. */
export function nextPage(
  path: string,
  query: Record<string, unknown>,
  cursor: Record<string, number> | null,
): string | null {
  if (!cursor) return null;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...query, ...cursor }))
    if (v !== undefined && v !== null) params.set(k, String(v));
  return `${path}?${params}`;
}
