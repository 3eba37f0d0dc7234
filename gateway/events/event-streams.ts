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
  /** Bytes handed to a client's socket before it is left to drain. */
  maxBufferedBytes: number;
  /** The event log's capacity: a client further behind has lost events and is dropped. */
  bufferSize: number;
}

interface Client {
  res: ServerResponse;
  filter: StreamFilter;
  /** The number of the last logged event handed to the socket (or skipped by the filter). */
  sent: number;
  /** The socket holds maxBufferedBytes: further events are read from the log after 'drain'. */
  waiting: boolean;
}

/**
 * The open GET /api/events streams. Bounded: at most maxClients at once; each socket is given at
 * most maxBufferedBytes, and a client whose socket is full catches up from the event log when it
 * drains (a cursor, no copy), so a resume backlog costs nothing extra and a stalled client holds
 * no memory but its socket. A client the log has left behind (more than EVENTS_BUFFER events) is
 * disconnected; it resumes with Last-Event-ID and gets a reset.
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
      for (const c of this.#clients) this.#live(c, e);
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
    const client: Client = { res, filter, sent: this.#log.seq, waiting: false };
    this.#clients.add(client);
    this.#gauge.set(this.#clients.size);
    res.on('close', () => {
      this.#clients.delete(client);
      this.#gauge.set(this.#clients.size);
    });
    // `retry:` sets how long EventSource waits before reconnecting.
    res.write('retry: 3000\n\n');
    const resume = lastEventId === null ? null : this.#log.resumePoint(lastEventId);
    if (resume?.kind === 'reset') {
      const data = { reason: resume.reason, lastEventId: this.#log.lastId };
      res.write(`id: ${this.#log.lastId}\nevent: reset\ndata: ${JSON.stringify(data)}\n\n`);
    } else if (resume?.kind === 'after') {
      client.sent = resume.seq;
    }
    this.#catchUp(client);
  }

  #passes(f: StreamFilter, e: LoggedEvent): boolean {
    if (f.types && !f.types.has(e.event.type)) return false;
    if (f.district === null || e.event.type === 'summary') return true;
    return this.#districtOf(e.event) === f.district;
  }

  /** A new event: straight to a client that is caught up and has room, else read later from the log. */
  #live(c: Client, e: LoggedEvent): void {
    if (e.event.type === 'summary') {
      // Superseded every second: only a caught-up client with room gets it.
      if (!c.waiting && c.sent === this.#log.seq && this.#passes(c.filter, e)) this.#send(c, e.frame);
      return;
    }
    if (c.waiting) {
      if (e.seq - c.sent > this.#opts.bufferSize) this.#drop(c);
      return;
    }
    if (c.sent === e.seq - 1) {
      c.sent = e.seq;
      if (this.#passes(c.filter, e)) this.#send(c, e.frame);
    } else {
      this.#catchUp(c);
    }
  }

  /** Hands the client the logged events it has not had, until its socket is full; then waits for 'drain'. */
  #catchUp(c: Client): void {
    c.waiting = false;
    if (c.res.destroyed) return;
    while (c.sent < this.#log.seq && c.res.writableLength < this.#opts.maxBufferedBytes) {
      const e = this.#log.get(c.sent + 1);
      if (!e) {
        this.#drop(c);
        return;
      }
      c.sent = e.seq;
      if (this.#passes(c.filter, e)) c.res.write(e.frame);
    }
    if (c.sent < this.#log.seq || c.res.writableLength >= this.#opts.maxBufferedBytes) {
      c.waiting = true;
      c.res.once('drain', () => this.#catchUp(c));
      return;
    }
    const summary = this.#log.latestSummary;
    if (summary && this.#passes(c.filter, summary)) this.#send(c, summary.frame);
  }

  #send(c: Client, frame: string): void {
    if (c.res.destroyed) return;
    c.res.write(frame);
    if (c.res.writableLength >= this.#opts.maxBufferedBytes) {
      c.waiting = true;
      c.res.once('drain', () => this.#catchUp(c));
    }
  }

  #drop(c: Client): void {
    this.#logger.warn({ behind: this.#log.seq - c.sent }, 'an events client reads too slowly; disconnected');
    this.#slowDropped.inc();
    this.#clients.delete(c);
    this.#gauge.set(this.#clients.size);
    c.res.destroy();
  }

  /** A comment line every heartbeatMs keeps idle proxies from closing the stream. */
  #beat(): void {
    this.#heartbeat = this.#clock.setTimeout(() => {
      for (const c of this.#clients) if (!c.waiting) this.#send(c, ': heartbeat\n\n');
      this.#beat();
    }, this.#opts.heartbeatMs);
  }
}
