import { createHash } from 'node:crypto';

/** How an update goes wrong on purpose (each a probability 0..1; `random` for reproducible runs). */
export interface OtaFaults {
  /** The download fails outright (the device gives up and reports it). */
  downloadFailureRate?: number;
  /** The download is cut part-way once and resumed with a Range request. */
  interruptRate?: number;
  /** The image is damaged in flash: its sha256 does not match. */
  checksumFailureRate?: number;
  /** The new image does not boot: the bootloader falls back to the old firmware. */
  bootFailureRate?: number;
  /** Wall milliseconds the reboot takes (default 300). */
  rebootMs?: number;
  random?: () => number;
}

export interface OtaParams {
  url: string;
  sha256: string;
  size: number;
  version: string;
}

/** Attempts after a cut or a lost connection (a gateway restart), each after a longer pause. */
const MAX_RESUMES = 8;
const RETRY_PAUSE_MS = 500;
/** No byte for this long: the connection is taken for dead and the download resumed. */
const STALL_MS = 3000;

export class OtaError extends Error {}

/**
 * Downloads a firmware image the way a device with little memory does: streamed, hashed as it
 * arrives, never more bytes than announced, resumed with `Range` and `If-Range` after a cut.
 * Returns the sha256 of what was received.
 */
export async function downloadImage(
  p: OtaParams,
  faults: OtaFaults,
  onProgress: (pct: number) => void,
  onResume: (fromByte: number) => void = () => {},
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<string> {
  const random = faults.random ?? Math.random;
  if (random() < (faults.downloadFailureRate ?? 0))
    throw new OtaError('download failed: connection reset (simulated)');
  let cutAt = random() < (faults.interruptRate ?? 0) ? Math.floor(p.size * (0.2 + 0.6 * random())) : -1;
  let hash = createHash('sha256');
  let received = 0;
  let etag: string | null = null;
  let lastPct = -1;
  let lost: string | null = null;
  for (let attempt = 0; received < p.size; attempt++) {
    if (attempt > MAX_RESUMES)
      throw new OtaError(`download failed: gave up after ${MAX_RESUMES} resumes${lost ? ` (${lost})` : ''}`);
    if (lost) await sleep(RETRY_PAUSE_MS * attempt);
    lost = null;
    const abort = new AbortController();
    let stall = setTimeout(() => abort.abort(new Error('stalled')), STALL_MS);
    const alive = () => {
      clearTimeout(stall);
      stall = setTimeout(() => abort.abort(new Error('stalled')), STALL_MS);
    };
    const headers: Record<string, string> = {};
    if (received > 0) {
      onResume(received);
      headers.range = `bytes=${received}-`;
      if (etag) headers['if-range'] = etag;
    }
    let res: Response;
    try {
      res = await fetch(p.url, { headers, signal: abort.signal });
    } catch (err) {
      clearTimeout(stall);
      lost = `${(err as Error).message}: ${String((err as { cause?: unknown }).cause ?? '')}`;
      continue;
    }
    if (res.status >= 500) {
      clearTimeout(stall);
      lost = `HTTP ${res.status}`; // the gateway restarting: try again
      continue;
    }
    if (res.status !== 200 && res.status !== 206) {
      clearTimeout(stall);
      throw new OtaError(`download failed: HTTP ${res.status}`);
    }
    if (res.status === 206) {
      const start = Number(/^bytes (\d+)-/.exec(res.headers.get('content-range') ?? '')?.[1]);
      if (start !== received) {
        clearTimeout(stall);
        throw new OtaError(`download failed: resumed at ${start}, not ${received}`);
      }
    } else {
      hash = createHash('sha256'); // the server sent the whole image again
      received = 0;
    }
    etag = res.headers.get('etag') ?? etag;
    if (!res.body) throw new OtaError('download failed: no body');
    try {
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        alive();
        let part = Buffer.from(chunk);
        if (received + part.length > p.size) throw new OtaError(`download failed: more than ${p.size} bytes`);
        if (cutAt >= 0 && received + part.length > cutAt) {
          part = part.subarray(0, cutAt - received);
          cutAt = -1;
          hash.update(part);
          received += part.length;
          abort.abort();
          break;
        }
        hash.update(part);
        received += part.length;
        const pct = Math.floor((received / p.size) * 4) * 25;
        if (pct !== lastPct && pct < 100) {
          lastPct = pct;
          onProgress(pct);
        }
      }
    } catch (err) {
      if (err instanceof OtaError) throw err;
      lost = (err as Error).message; // the connection went or stalled: resume
    } finally {
      clearTimeout(stall);
    }
  }
  onProgress(100);
  if (random() < (faults.checksumFailureRate ?? 0)) hash.update('a flipped bit in flash');
  return hash.digest('hex');
}
