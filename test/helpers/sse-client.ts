import { get, type IncomingMessage } from 'node:http';

export interface SseEvent {
  id: string | null;
  event: string;
  data: any;
}

export interface SseStream {
  status: number;
  /** Events received so far, in order. */
  events: SseEvent[];
  /** Comment lines (heartbeats), without the colon. */
  comments: string[];
  /** The response body when it was not an event stream (e.g. a 401's JSON). */
  body(): Promise<any>;
  close(): void;
  /** Resolves when the server ends or drops the stream. */
  ended: Promise<void>;
}

/**
 * A real HTTP client of GET /api/events with a text/event-stream parser (WHATWG HTML 9.2.6:
 * events end at a blank line; `field: value` lines; lines starting with ':' are comments).
 */
export function openEvents(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    const req = get(url, { headers: { accept: 'text/event-stream', ...headers } }, (res: IncomingMessage) => {
      const events: SseEvent[] = [];
      const comments: string[] = [];
      let buffer = '';
      let raw = '';
      const isStream = String(res.headers['content-type']).startsWith('text/event-stream');
      res.setEncoding('utf8');
      const ended = new Promise<void>((done) => {
        res.on('close', done);
        res.on('end', done);
        res.on('error', () => done());
      });
      res.on('data', (chunk: string) => {
        if (!isStream) {
          raw += chunk;
          return;
        }
        buffer += chunk;
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const e: { id: string | null; event: string; data: string[] } = {
            id: null,
            event: 'message',
            data: [],
          };
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) {
              comments.push(line.slice(1).trim());
              continue;
            }
            const colon = line.indexOf(':');
            const field = line.slice(0, colon);
            const value = line.slice(colon + 1).replace(/^ /, '');
            if (field === 'id') e.id = value;
            else if (field === 'event') e.event = value;
            else if (field === 'data') e.data.push(value);
          }
          if (e.data.length) events.push({ id: e.id, event: e.event, data: JSON.parse(e.data.join('\n')) });
        }
      });
      resolve({
        status: res.statusCode ?? 0,
        events,
        comments,
        async body() {
          await ended;
          return raw ? JSON.parse(raw) : null;
        },
        close: () => req.destroy(),
        ended,
      });
    });
    req.on('error', reject);
  });
}
