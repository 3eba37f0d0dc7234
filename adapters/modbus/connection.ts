import { Socket } from 'node:net';
import Modbus, { type ModbusTCPClient } from 'jsmodbus';
import type { Clock } from '../../gateway/clock.ts';
import type { Logger } from '../../gateway/logger.ts';
import {
  MbErrClosed,
  MbErrConnectionLost,
  MbErrException,
  MbErrNotConnected,
  MbErrTimeout,
  MODBUS_EXCEPTIONS,
} from './errors.ts';

export const CONNECTION_STATES = {
  idle: 'idle',
  connecting: 'connecting',
  up: 'up',
  /** Backing off after a failure: requests fail at once instead of piling up. */
  waiting: 'waiting',
  closed: 'closed',
} as const;
export type ConnectionState = keyof typeof CONNECTION_STATES;

export interface ConnectionOptions {
  host: string;
  port: number;
  clock: Clock;
  log: Logger;
  requestTimeoutMs: number;
  connectTimeoutMs: number;
  reconnect: { initialMs: number; maxMs: number };
  /** The TCP connection is (again) established. */
  onUp?(): void;
  /** A connect attempt failed: every unit behind this address is unreachable. */
  onDown?(err: Error): void;
}

/** A Modbus exception answer: the device is there but refused the request. */
export interface ModbusExceptionError extends Error {
  exceptionCode: number;
}

export function isModbusException(err: unknown): err is ModbusExceptionError {
  return typeof (err as ModbusExceptionError)?.exceptionCode === 'number';
}

export function modbusException(code: number): ModbusExceptionError {
  const text = MODBUS_EXCEPTIONS[code as keyof typeof MODBUS_EXCEPTIONS] ?? 'unknown exception';
  return Object.assign(new MbErrException(code, text), { exceptionCode: code });
}

interface Job {
  unitId: number;
  run(client: ModbusTCPClient): Promise<unknown>;
  resolve(value: unknown): void;
  reject(err: Error): void;
}

/** jsmodbus rejects with plain `{err, message, response}` objects (user-request-error.d.ts). */
interface LibError {
  err?: string;
  message?: string;
  response?: { body?: { code?: number } };
}

/** jsmodbus errors after which the byte stream can no longer be trusted. */
const DESYNC = new Set(['OutOfSync', 'Protocol', 'Timeout', 'Offline']);

/**
 * One TCP connection to a Modbus TCP server or RS-485 gateway, shared by every unit id behind
 * it. jsmodbus allows one request in flight per client and binds a client to one unit id, so
 * the connection keeps its own queue across units and sends one request at a time (an RS-485
 * bus answers one at a time anyway). A late answer after a timeout would put jsmodbus out of
 * sync (OutOfSync rejects everything queued), and it never reconnects by itself: so after a
 * timeout or a desync the socket is replaced, the first retry at once, later ones with
 * exponential backoff; a successful answer resets the backoff.
 */
export class ModbusConnection {
  readonly key: string;
  readonly #opts: ConnectionOptions;
  #state: ConnectionState = 'idle';
  #socket: Socket | null = null;
  readonly #clients = new Map<number, ModbusTCPClient>();
  #queue: Job[] = [];
  #inFlight: Job | null = null;
  #requestTimer: unknown = null;
  #waitTimer: unknown = null;
  #failures = 0;
  /** The last attempt could not reach the peer (refused, unreachable, closed on us). */
  #peerDown = false;
  #lastError = 'not connected yet';

  constructor(opts: ConnectionOptions) {
    this.#opts = opts;
    this.key = `${opts.host}:${opts.port}`;
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** Connects unless already connected, connecting or backing off. */
  open(): void {
    if (this.#state === 'idle') this.#connect();
  }

  /** Queues one Modbus request for a unit; it runs when the connection is up and idle. */
  request<T>(unitId: number, run: (client: ModbusTCPClient) => Promise<T>): Promise<T> {
    if (this.#state === 'closed') return Promise.reject(new MbErrClosed(this.key));
    // While the peer is unreachable, fail at once rather than pile up; after a deliberate reset
    // (a unit timed out, the peer is there) requests wait for the new socket.
    if (this.#state === 'waiting' && this.#peerDown)
      return Promise.reject(new MbErrNotConnected(this.key, this.#lastError));
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ unitId, run, resolve: resolve as (v: unknown) => void, reject });
      this.open();
      this.#pump();
    });
  }

  close(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#opts.clock.clearTimeout(this.#waitTimer);
    this.#failAll(new MbErrClosed(this.key));
    this.#dropSocket();
  }

  #connect(): void {
    const { host, port, clock, connectTimeoutMs, log } = this.#opts;
    this.#state = 'connecting';
    const socket = new Socket();
    // Every jsmodbus client (one per unit id) listens on the socket; a bus has up to 247 units.
    socket.setMaxListeners(0);
    socket.setNoDelay(true);
    this.#socket = socket;
    const connectTimer = clock.setTimeout(
      () => socket.destroy(new Error(`connect timed out after ${connectTimeoutMs} ms`)),
      connectTimeoutMs,
    );
    socket.on('error', (err) => {
      this.#lastError = err.message;
    });
    socket.once('connect', () => {
      clock.clearTimeout(connectTimer);
      if (this.#socket !== socket) return;
      // Half-open connections (a gateway power-cycled) are found by keep-alive, not by waiting.
      socket.setKeepAlive(true, 10_000);
      this.#lastError = 'closed by the peer'; // unless an 'error' event says more
      this.#peerDown = false;
      this.#state = 'up';
      log.info({ peer: this.key }, 'Modbus connection up');
      this.#opts.onUp?.();
      this.#pump();
    });
    socket.once('close', () => {
      clock.clearTimeout(connectTimer);
      if (this.#socket === socket) this.#lost();
    });
    socket.connect({ host, port });
  }

  #clientFor(unitId: number, socket: Socket): ModbusTCPClient {
    let client = this.#clients.get(unitId);
    if (!client) {
      // The library's own timer is only a backstop; ours (on the injected clock) fires first.
      client = new Modbus.ModbusTCPClient(socket, unitId, Math.max(10_000, this.#opts.requestTimeoutMs * 4));
      this.#clients.set(unitId, client);
      // A jsmodbus client learns that its socket is up only from the 'connect' event; one made
      // for a unit id seen after connecting must hear it again (its handler only sets a flag).
      if (this.#state === 'up') socket.emit('connect');
    }
    return client;
  }

  #pump(): void {
    if (this.#state !== 'up' || this.#inFlight || this.#queue.length === 0) return;
    const job = this.#queue.shift()!;
    const socket = this.#socket!;
    this.#inFlight = job;
    const { clock, requestTimeoutMs } = this.#opts;
    this.#requestTimer = clock.setTimeout(() => {
      if (this.#inFlight !== job) return;
      this.#inFlight = null;
      job.reject(new MbErrTimeout(this.key, job.unitId, requestTimeoutMs));
      this.#reset('request timed out');
    }, requestTimeoutMs);
    let pending: Promise<unknown>;
    try {
      pending = job.run(this.#clientFor(job.unitId, socket));
    } catch (err) {
      pending = Promise.reject(err);
    }
    pending.then(
      (value) => {
        if (this.#inFlight !== job) return;
        this.#settle();
        this.#failures = 0;
        job.resolve(value);
        this.#pump();
      },
      (raw: LibError) => {
        if (this.#inFlight !== job) return;
        this.#settle();
        if (raw?.err === 'ModbusException') {
          // An exception answer still proves the link works.
          this.#failures = 0;
          job.reject(modbusException(raw.response?.body?.code ?? 0));
          this.#pump();
        } else if (raw?.err && DESYNC.has(raw.err)) {
          job.reject(new MbErrConnectionLost(this.key, `${raw.err}: ${raw.message}`));
          this.#reset(raw.err);
        } else {
          // Refused before sending (e.g. an address out of range): the connection is fine.
          job.reject(raw instanceof Error ? raw : new Error(String(raw?.message ?? raw)));
          this.#pump();
        }
      },
    );
  }

  #settle(): void {
    this.#opts.clock.clearTimeout(this.#requestTimer);
    this.#inFlight = null;
  }

  /** Deliberate replacement of a socket that can no longer be trusted (timeout, desync). */
  #reset(reason: string): void {
    this.#opts.log.warn({ peer: this.key, reason }, 'Modbus connection reset');
    this.#lastError = reason;
    this.#dropSocket();
    this.#failures++;
    this.#retry();
  }

  /** The socket closed on its own, or never connected. */
  #lost(): void {
    const wasUp = this.#state === 'up';
    const reason = this.#lastError;
    this.#socket = null;
    this.#clients.clear();
    this.#failures++;
    if (wasUp) {
      // Only the request on the wire is lost; queued ones wait for the reconnect, so a gateway
      // dropping an idle connection does not flap every device behind it.
      const inFlight = this.#inFlight;
      this.#settle();
      inFlight?.reject(new MbErrConnectionLost(this.key, reason));
      this.#opts.log.warn({ peer: this.key, reason }, 'Modbus connection closed');
    } else {
      this.#peerDown = true;
      const err = new MbErrNotConnected(this.key, reason);
      this.#failAll(err);
      this.#opts.log.warn({ peer: this.key, reason, failures: this.#failures }, 'Modbus peer unreachable');
      this.#opts.onDown?.(err);
    }
    this.#retry();
  }

  /** The first retry is immediate (a restarted peer, a dropped idle connection), then exponential. */
  #retry(): void {
    if (this.#state === 'closed') return;
    const { initialMs, maxMs } = this.#opts.reconnect;
    const delay = this.#failures <= 1 ? 0 : Math.min(maxMs, initialMs * 2 ** (this.#failures - 2));
    if (delay === 0) {
      this.#connect();
      return;
    }
    this.#state = 'waiting';
    if (this.#peerDown) this.#failAll(new MbErrNotConnected(this.key, this.#lastError));
    this.#waitTimer = this.#opts.clock.setTimeout(() => {
      if (this.#state === 'waiting') this.#connect();
    }, delay);
  }

  #failAll(err: Error): void {
    const queued = this.#queue;
    this.#queue = [];
    const inFlight = this.#inFlight;
    this.#settle();
    inFlight?.reject(err);
    for (const job of queued) job.reject(err);
  }

  #dropSocket(): void {
    const socket = this.#socket;
    this.#socket = null;
    this.#clients.clear();
    socket?.destroy();
  }
}
