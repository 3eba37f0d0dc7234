/** What one pass over the bytes of a JSON payload found, before anything parses it. */
export type PayloadShape =
  | { ok: true }
  | { ok: false; reason: 'too-deep' | 'too-many' | 'too-wide'; limit: number };

/**
 * Members one JSON object may have. A reading or a state report has a few dozen at most; an
 * object of thousands of keys costs V8 a dictionary and zod a walk over every key.
 */
export const MAX_OBJECT_MEMBERS = 128;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;

/**
 * A linear scan of untrusted JSON bytes: nesting depth, the number of elements of a top-level
 * array and the members of every object, each checked against its limit. It stops at the first limit passed, so its
 * cost is bounded by the payload size and it allocates nothing. Structure is counted only
 * outside strings; on malformed JSON the answer may be off, but JSON.parse refuses that anyway,
 * and on well-formed JSON the depth it counts is exactly the depth JSON.parse builds.
 */
export function scanPayload(
  payload: Uint8Array,
  limits: { maxDepth: number; maxElements: number },
): PayloadShape {
  let depth = 0;
  let inString = false;
  let topArray = false;
  let seenTop = false;
  let commas = 0;
  // Per open container: is it an object, and how many commas it has seen so far.
  const isObject = new Uint8Array(limits.maxDepth + 1);
  const members = new Uint32Array(limits.maxDepth + 1);
  for (let i = 0; i < payload.length; i++) {
    const c = payload[i];
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
      continue;
    }
    switch (c) {
      case QUOTE:
        inString = true;
        break;
      case 0x5b: // [
      case 0x7b: // {
        if (!seenTop) {
          seenTop = true;
          topArray = c === 0x5b;
        }
        if (++depth > limits.maxDepth) return { ok: false, reason: 'too-deep', limit: limits.maxDepth };
        isObject[depth] = c === 0x7b ? 1 : 0;
        members[depth] = 0;
        break;
      case 0x5d: // ]
      case 0x7d: // }
        depth--;
        break;
      case COMMA:
        // n commas at the top level of an array separate n + 1 elements.
        if (depth === 1 && topArray && ++commas >= limits.maxElements)
          return { ok: false, reason: 'too-many', limit: limits.maxElements };
        if (depth > 0 && isObject[depth] && ++members[depth] >= MAX_OBJECT_MEMBERS)
          return { ok: false, reason: 'too-wide', limit: MAX_OBJECT_MEMBERS };
        break;
      default:
        // A scalar before any bracket: the payload is no array (or no JSON) at all.
        if (!seenTop && c > 0x20) seenTop = true;
    }
  }
  return { ok: true };
}
