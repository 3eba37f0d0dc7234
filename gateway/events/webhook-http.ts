import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Clock } from '../clock.ts';

export interface PostResult {
  /** The response's status, or null when none came (refused, timed out, reset). */
  statusCode: number | null;
  /** Why it did not count as delivered, or null when it did (a 2xx). */
  error: string | null;
}

export interface PostOptions {
  clock: Clock;
  timeoutMs: number;
  /** At most this much of the response body is read (for the error message); the rest is dropped. */
  maxResponseBytes: number;
  /** Aborts the exchange (the gateway is stopping). */
  signal?: AbortSignal;
}

/**
 * One POST of a webhook body. Bounded: a timeout on the whole exchange (from the injected clock),
 * a cap on the response read, and redirects are not followed (a 3xx is a failure, so a
 * registered URL cannot bounce deliveries elsewhere).
 */
export function postWebhook(
  url: string,
  body: string,
  headers: Record<string, string>,
  opts: PostOptions,
): Promise<PostResult> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (r: PostResult) => {
      if (settled) return;
      settled = true;
      opts.clock.clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      resolve(r);
    };
    const target = new URL(url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(target, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    });
    const timer = opts.clock.setTimeout(() => {
      finish({ statusCode: null, error: `no answer within ${opts.timeoutMs} ms` });
      req.destroy();
    }, opts.timeoutMs);
    req.on('error', (err) => finish({ statusCode: null, error: err.message }));
    const onAbort = () => {
      finish({ statusCode: null, error: 'cancelled: the gateway is stopping' });
      req.destroy();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      const chunks: Buffer[] = [];
      let size = 0;
      const done = () => {
        const text = Buffer.concat(chunks).subarray(0, opts.maxResponseBytes).toString('utf8');
        if (status >= 200 && status < 300) return finish({ statusCode: status, error: null });
        const why =
          status >= 300 && status < 400
            ? `redirect to ${res.headers.location ?? '?'} not followed`
            : `HTTP ${status}`;
        finish({ statusCode: status, error: text ? `${why}: ${text.slice(0, 200)}` : why });
      };
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        size += c.length;
        if (size >= opts.maxResponseBytes) {
          done();
          res.destroy();
        }
      });
      res.on('end', done);
      res.on('error', done);
    });
    req.end(body);
  });
}
