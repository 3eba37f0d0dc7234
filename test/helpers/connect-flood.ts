import { Worker } from 'node:worker_threads';

/**
 * Concurrent raw CONNECT loops in a worker thread: the attacker's own socket work runs on another
 * event loop than the gateway's, as it would on another machine. Each loop sends `packet`, waits
 * for the CONNACK (or the close), pauses, and goes again, `rounds` times or until stop().
 */
export interface ConnectFlood {
  /** CONNACKs (or closes without one) received so far, by return code ('closed' for none). */
  readonly answers: Record<string, number>;
  readonly total: number;
  stop(): Promise<void>;
}

const WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
const net = require('node:net');
const { port, localAddress, packet, concurrency, rounds, pauseMs } = workerData;
const answers = {};
let stopped = false;
parentPort.on('message', () => { stopped = true; });
const once = () => new Promise((resolve) => {
  const socket = net.connect({ port, host: '127.0.0.1', localAddress });
  let got = Buffer.alloc(0);
  let done = false;
  const finish = (code) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    socket.destroy();
    answers[code] = (answers[code] ?? 0) + 1;
    resolve();
  };
  const timer = setTimeout(() => finish('timeout'), 10000);
  socket.once('connect', () => socket.write(Buffer.from(packet)));
  socket.on('data', (d) => {
    got = Buffer.concat([got, d]);
    if (got.length >= 4 && got[0] === 0x20) finish(String(got[3]));
  });
  socket.on('error', () => finish('closed'));
  socket.on('close', () => finish('closed'));
});
const loop = async () => {
  for (let i = 0; i < rounds && !stopped; i++) {
    await once();
    await new Promise((r) => setTimeout(r, pauseMs));
  }
};
const report = setInterval(() => parentPort.postMessage({ answers }), 20);
Promise.all(Array.from({ length: concurrency }, loop)).then(() => {
  clearInterval(report);
  parentPort.postMessage({ answers, done: true });
});
`;

export function startConnectFlood(opts: {
  port: number;
  packet: Buffer;
  localAddress?: string;
  concurrency: number;
  rounds: number;
  pauseMs: number;
}): ConnectFlood {
  const { packet, ...rest } = opts;
  const worker = new Worker(WORKER, { eval: true, workerData: { ...rest, packet: new Uint8Array(packet) } });
  let answers: Record<string, number> = {};
  let finished: () => void;
  const done = new Promise<void>((resolve) => {
    finished = resolve;
  });
  worker.on('message', (m: { answers: Record<string, number>; done?: boolean }) => {
    answers = m.answers;
    if (m.done) finished();
  });
  worker.on('error', () => finished());
  worker.on('exit', () => finished());
  return {
    get answers() {
      return answers;
    },
    get total() {
      return Object.values(answers).reduce((a, b) => a + b, 0);
    },
    async stop() {
      worker.postMessage('stop');
      await done;
      await worker.terminate();
    },
  };
}
