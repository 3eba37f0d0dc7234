/** One byte range of a representation, both ends inclusive [RFC 9110 §14.1.2]. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Reads a `Range` header for a representation of `size` bytes [RFC 9110 §14.2]:
 * - `null`: no range to apply (no header, another unit than bytes, or several ranges: the
 *   server may ignore a Range header, and one image needs no multipart answer);
 * - `'unsatisfiable'`: the header is invalid or no range overlaps the image (416);
 * - otherwise the range, clipped to the image.
 */
export function parseByteRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | null {
  if (header === undefined) return null;
  const m = /^\s*([A-Za-z]+)\s*=\s*(.*)$/.exec(header);
  if (!m) return 'unsatisfiable';
  if (m[1].toLowerCase() !== 'bytes') return null;
  const specs = m[2].split(',');
  if (specs.length > 1) return null;
  const r = /^\s*(\d{0,15})\s*-\s*(\d{0,15})\s*$/.exec(specs[0]);
  if (!r || (r[1] === '' && r[2] === '')) return 'unsatisfiable';
  if (r[1] === '') {
    // A suffix: the last N bytes [RFC 9110 §14.1.2].
    const n = Number(r[2]);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(r[1]);
  const end = r[2] === '' ? size - 1 : Math.min(Number(r[2]), size - 1);
  if (r[2] !== '' && Number(r[2]) < start) return 'unsatisfiable';
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}
