import type { ServerResponse } from 'node:http';
import type { Counter, Gauge } from 'prom-client';
import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import type { EventLog, LoggedEvent } from './event-log.ts';

export interface StreamFilter {
  /** Event types to send; null sends all. */
  types: ReadonlySet<string> | null;
  /** Only events of this district (summaries, city-wide, always pass). */
  district: string | null;
}

export interface EventStreamOptions {
  maxClients: number;
  heartbeatMs: number;
  /** Bytes handed to a client's socket before further frames wait for it to drain. */
  maxBufferedBytes: number;
  /** Frames a client may have waiting (its resume backlog included) before it is dropped as too slow. */
  maxQueuedFrames: number;
}

interface Client {
  res: ServerResponse;
  filter: StreamFilter;
  /**
   * Frames waiting for the socket to drain, from `head` on. They are the strings the log already
   * holds, shared by every client, so a waiting client costs a pointer per event, not a copy.
   */
  queue: string[];
  head: number;
  waiting: boolean;
}

/**
 * The open GET /api/events streams. Bounded: at most maxClients at once; each socket is given at
 * most maxBufferedBytes, the rest waits as references to the log's frames; a client more than
 * maxQueuedFrames behind is disconnected (it resumes with Last-Event-ID, or resets), so a stalled
 * client never makes the gateway buffer without limit.
 */
export class EventStreams {
  readonly #log: EventLog;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #opts: EventStreamOptions;
  readonly #clients = new Set<Client>();
  readonly #gauge: Gauge;
  readonly #slowDropped: Counter;
  readonly #districtOf: (e: LoggedEvent['event']) => string | null;
  #heartbeat: unknown = null;
  #unsubscribe: (() => void) | null = null;

  constructor(deps: {
    log: EventLog;
    clock: Clock;
    logger: Logger;
    gauge: Gauge;
    slowDropped: Counter;
    districtOf: (e: LoggedEvent['event']) => string | null;
    opts: EventStreamOptions;
  }) {
    this.#log = deps.log;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
    this.#gauge = deps.gauge;
    this.#slowDropped = deps.slowDropped;
    this.#districtOf = deps.districtOf;
    this.#opts = deps.opts;
  }

  get size(): number {
    return this.#clients.size;
  }

  get full(): boolean {
    return this.#clients.size >= this.#opts.maxClients;
  }

  start(): void {
    this.#unsubscribe = this.#log.subscribe((e) => {
      for (const c of this.#clients) if (this.#passes(c.filter, e)) this.#write(c, e.frame);
    });
    this.#beat();
  }

  /** Ends every stream (the HTTP server's close waits for open responses). */
  stop(): void {
    this.#unsubscribe?.();
    if (this.#heartbeat !== null) this.#clock.clearTimeout(this.#heartbeat);
    this.#heartbeat = null;
    for (const c of this.#clients) c.res.end();
    this.#clients.clear();
    this.#gauge.set(0);
  }

  /**
   * Opens a stream on a response: headers, the missed events (or a reset), the latest summary,
   * then live events. All of it in one turn of the event loop, so no event falls in between.
   */
  open(res: ServerResponse, filter: StreamFilter, lastEventId: string | null): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // nginx buffers proxied responses unless told not to.
      'x-accel-buffering': 'no',
    });
    const client: Client = { res, filter, queue: [], head: 0, waiting: false };
    this.#clients.add(client);
    this.#gauge.set(this.#clients.size);
    res.on('close', () => {
      this.#clients.delete(client);
      this.#gauge.set(this.#clients.size);
    });
    // `retry:` sets how long EventSource waits before reconnecting.
    this.#write(client, 'retry: 3000\n\n');
    if (lastEventId !== null) {
      const resumed = this.#log.since(lastEventId);
      if (resumed.kind === 'reset') {
        const data = { reason: resumed.reason, lastEventId: this.#log.lastId };
        this.#write(client, `id: ${this.#log.lastId}\nevent: reset\ndata: ${JSON.stringify(data)}\n\n`);
      } else {
        for (const e of resumed.events) if (this.#passes(filter, e)) this.#write(client, e.frame);
      }
    }
    const summary = this.#log.latestSummary;
    if (summary && this.#passes(filter, summary)) this.#write(client, summary.frame);
  }

  #passes(f: StreamFilter, e: LoggedEvent): boolean {
    if (f.types && !f.types.has(e.event.type)) return false;
    if (f.district === null || e.event.type === 'summary') return true;
    return this.#districtOf(e.event) === f.district;
  }

  #write(c: Client, frame: string): void {
    if (c.res.destroyed) return;
    c.queue.push(frame);
    if (c.queue.length - c.head > this.#opts.maxQueuedFrames) {
      this.#logger.warn(
        { behind: c.queue.length - c.head },
        'an events client reads too slowly; disconnected',
      );
      this.#slowDropped.inc();
      this.#clients.delete(c);
      this.#gauge.set(this.#clients.size);
      c.res.destroy();
      return;
    }
    if (!c.waiting) this.#flush(c);
  }

  /** Hands queued frames to the socket until it holds maxBufferedBytes, then waits for 'drain'. */
  #flush(c: Client): void {
    c.waiting = false;
    while (c.head < c.queue.length && c.res.writableLength < this.#opts.maxBufferedBytes && !c.res.destroyed)
      c.res.write(c.queue[c.head++]);
    if (c.head === c.queue.length) {
      c.queue = [];
      c.head = 0;
    } else if (c.head > 1024 && c.head > c.queue.length / 2) {
      c.queue = c.queue.slice(c.head);
      c.head = 0;
    }
    if (c.head < c.queue.length && !c.res.destroyed) {
      c.waiting = true;
      c.res.once('drain', () => this.#flush(c));
    }
  }

  /** A comment line every heartbeatMs keeps idle proxies from closing the stream. */
  #beat(): void {
    this.#heartbeat = this.#clock.setTimeout(() => {
      for (const c of this.#clients) this.#write(c, ': heartbeat\n\n');
      this.#beat();
    }, this.#opts.heartbeatMs);
  }
}
