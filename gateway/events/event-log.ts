import type { GatewayEvent } from './bus.ts';

/** An event with its stream id and its server-sent-events frame, serialised once for every client. */
export interface LoggedEvent {
  id: string;
  seq: number;
  event: GatewayEvent;
  frame: string;
}

/** Where a client resumes: after `seq` (every later event is still kept), or from a reset. */
export type ResumePoint = { kind: 'after'; seq: number } | { kind: 'reset'; reason: string };

/** One frame of text/event-stream (WHATWG HTML, "Server-sent events", 9.2.6). JSON has no newline. */
export function sseFrame(id: string, type: string, data: unknown): string {
  return `id: ${id}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * The gateway's recent events, numbered, for `Last-Event-ID` resume over a bounded ring.
 *
 * An id is `<epoch>-<seq>`: the epoch (the process's start time, base 36) tells an id of a previous
 * process apart, so its client is told to reset rather than handed the wrong events. Summaries are
 * not kept: each one supersedes the last, so a summary carries the id of the newest kept event
 * (a client resuming from it misses nothing) and a new client gets the latest one at once.
 */
export class EventLog {
  readonly epoch: string;
  readonly #ring: Array<LoggedEvent | undefined>;
  #seq = 0;
  #summary: LoggedEvent | null = null;
  readonly #listeners = new Set<(e: LoggedEvent) => void>();

  constructor(capacity: number, startedAt: number) {
    this.#ring = new Array(capacity);
    this.epoch = startedAt.toString(36);
  }

  get lastId(): string {
    return `${this.epoch}-${this.#seq}`;
  }

  /** The newest kept event's number (0 before the first). */
  get seq(): number {
    return this.#seq;
  }

  /** The kept event numbered `seq`, or undefined once the ring has let it go. */
  get(seq: number): LoggedEvent | undefined {
    if (seq < 1 || seq > this.#seq || seq <= this.#seq - this.#ring.length) return undefined;
    return this.#ring[seq % this.#ring.length];
  }

  get latestSummary(): LoggedEvent | null {
    return (
      this.#summary && { ...this.#summary, frame: sseFrame(this.lastId, 'summary', this.#summary.event) }
    );
  }

  append(event: GatewayEvent): LoggedEvent {
    if (event.type === 'summary') {
      const logged = {
        id: this.lastId,
        seq: this.#seq,
        event,
        frame: sseFrame(this.lastId, 'summary', event),
      };
      this.#summary = logged;
      this.#notify(logged);
      return logged;
    }
    const seq = ++this.#seq;
    const id = `${this.epoch}-${seq}`;
    const logged = { id, seq, event, frame: sseFrame(id, event.type, event) };
    this.#ring[seq % this.#ring.length] = logged;
    this.#notify(logged);
    return logged;
  }

  subscribe(fn: (e: LoggedEvent) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  #notify(e: LoggedEvent): void {
    for (const fn of this.#listeners) fn(e);
  }

  /** Where a client that last saw `lastEventId` resumes, or a reset when its events are gone. */
  resumePoint(lastEventId: string): ResumePoint {
    const dash = lastEventId.lastIndexOf('-');
    const epoch = lastEventId.slice(0, dash);
    const seq = Number(lastEventId.slice(dash + 1));
    if (dash < 0 || !Number.isSafeInteger(seq) || seq < 0)
      return { kind: 'reset', reason: 'the Last-Event-ID is not one of this gateway' };
    if (epoch !== this.epoch)
      return { kind: 'reset', reason: 'the gateway restarted since the Last-Event-ID' };
    if (seq > this.#seq) return { kind: 'reset', reason: 'the Last-Event-ID is ahead of the gateway' };
    const oldest = Math.max(1, this.#seq - this.#ring.length + 1);
    if (seq < oldest - 1)
      return { kind: 'reset', reason: 'the events after the Last-Event-ID are no longer buffered' };
    return { kind: 'after', seq };
  }
}
