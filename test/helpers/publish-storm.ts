import { Worker } from 'node:worker_threads';

/**
 * A device publishing QoS 0 as fast as its socket takes it, from a worker thread (its own event
 * loop, as if on another machine): raw PUBLISH packets written until write() says the socket is
 * full, then again on 'drain'.
 */
export interface PublishStorm {
  /** Packets handed to the socket so far. */
  readonly sent: number;
  stop(): Promise<void>;
}

const WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
const net = require('node:net');
const { port, connect, chunk, perChunk } = workerData;
let sent = 0;
let stopped = false;
const socket = net.connect({ port, host: '127.0.0.1' });
socket.on('error', () => {});
socket.once('connect', () => socket.write(Buffer.from(connect)));
const data = Buffer.from(chunk);
const pump = () => {
  while (!stopped) {
    sent += perChunk;
    if (!socket.write(data)) return socket.once('drain', pump);
  }
};
let connacked = false;
socket.on('data', (d) => {
  if (connacked) return;
  connacked = true;
  if (d[0] !== 0x20 || d[3] !== 0) return parentPort.postMessage({ error: 'refused ' + d[3] });
  pump();
});
const report = setInterval(() => parentPort.postMessage({ sent }), 20);
parentPort.on('message', () => {
  stopped = true;
  clearInterval(report);
  socket.destroy();
  parentPort.postMessage({ sent, done: true });
});
`;

export function startPublishStorm(opts: { port: number; connect: Buffer; publish: Buffer }): PublishStorm {
  const perChunk = 200;
  const chunk = Buffer.concat(Array.from({ length: perChunk }, () => opts.publish));
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: {
      port: opts.port,
      connect: new Uint8Array(opts.connect),
      chunk: new Uint8Array(chunk),
      perChunk,
    },
  });
  let sent = 0;
  let finished: () => void;
  const done = new Promise<void>((resolve) => {
    finished = resolve;
  });
  worker.on('message', (m: { sent?: number; done?: boolean; error?: string }) => {
    if (m.error) throw new Error(`storm device: ${m.error}`);
    if (m.sent !== undefined) sent = m.sent;
    if (m.done) finished();
  });
  worker.on('exit', () => finished());
  return {
    get sent() {
      return sent;
    },
    async stop() {
      worker.postMessage('stop');
      await done;
      await worker.terminate();
    },
  };
}
