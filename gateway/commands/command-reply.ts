import { z } from 'zod';

/** How much of a device's unreadable answer is kept in the command's history. */
export const RAW_REPLY_KEPT_CHARS = 500;
/** A device's error message is kept up to this length (longer ones are cut, not refused). */
export const REPLY_ERROR_MAX_CHARS = 1000;
/** Nesting of a reply's JSON; checked on the bytes before parsing, so nothing recurses deeper. */
export const REPLY_MAX_DEPTH = 32;

export type ParsedReply =
  | { kind: 'succeeded'; result: Record<string, unknown> }
  | { kind: 'failed'; error: string }
  | { kind: 'malformed'; reason: string; raw: string };

const plainObject = z.custom<Record<string, unknown>>(
  (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
  'must be a JSON object',
);

/** An error a device reports: a message, or an object with one (and maybe a code). */
const deviceError = z.union([
  z.string(),
  z.object({ message: z.string(), code: z.union([z.string().max(64), z.number()]).optional() }),
]);

const replySchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), result: plainObject.optional() }),
  z.object({ ok: z.literal(false), error: deviceError.optional() }),
]);

/**
 * Deepest nesting of `[`/`{` in JSON text, outside strings: a single pass without recursion, so
 * that a hostile reply cannot exhaust the stack in JSON.parse, zod or JSON.stringify later.
 */
export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c) i++;
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x7b || ch === 0x5b) max = Math.max(max, ++depth);
    else if (ch === 0x7d || ch === 0x5d) depth--;
  }
  return max;
}

const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)}…` : s);

/**
 * `{"ok":true,"result":{…}}` or `{"ok":false,"error":"…"}` (docs/design.md, "Commands"), read
 * without trusting it: anything else is `malformed`, with the reason and the raw text cut short.
 * Never throws.
 */
export function parseReply(payload: Buffer, maxBytes: number): ParsedReply {
  const raw = payload.toString('utf8', 0, Math.min(payload.length, RAW_REPLY_KEPT_CHARS * 4));
  const malformed = (reason: string): ParsedReply => ({
    kind: 'malformed',
    reason,
    raw: cut(raw, RAW_REPLY_KEPT_CHARS),
  });
  if (payload.length > maxBytes) return malformed(`${payload.length} bytes, more than ${maxBytes}`);
  const text = payload.toString('utf8');
  if (jsonDepth(text) > REPLY_MAX_DEPTH) return malformed(`nested deeper than ${REPLY_MAX_DEPTH} levels`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return malformed('not JSON');
  }
  const parsed = replySchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const at = issue.path.length ? issue.path.map(String).join('.') : 'reply';
    return malformed(`${at}: ${issue.message}`);
  }
  const reply = parsed.data;
  if (reply.ok) return { kind: 'succeeded', result: reply.result ?? {} };
  const e = reply.error;
  const text2 =
    e === undefined
      ? 'device reported failure'
      : typeof e === 'string'
        ? e
        : e.code === undefined
          ? e.message
          : `${e.code}: ${e.message}`;
  return { kind: 'failed', error: cut(text2, REPLY_ERROR_MAX_CHARS) };
}
