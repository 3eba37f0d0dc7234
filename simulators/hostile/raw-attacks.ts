import { createConnection, type Socket } from 'node:net';
import {
  type ConnectFields,
  connectPacket,
  PACKET,
  publishPacket,
  readPackets,
  remainingLength,
  subscribePacket,
} from '../mqtt-bytes.ts';
import type { ActionContext } from './actions.ts';
import { buildValid, fillTopic, type RawAttack } from './arbitraries.ts';

/** A raw TCP client that keeps what the broker sent and whether it closed. */
class RawClient {
  readonly socket: Socket;
  received = Buffer.alloc(0);
  closed = false;

  constructor(url: URL, localAddress: string) {
    this.socket = createConnection({ host: url.hostname, port: Number(url.port), localAddress });
    this.socket.on('data', (d) => {
      this.received = Buffer.concat([this.received, d]);
    });
    this.socket.on('error', () => {});
    this.socket.on('close', () => {
      this.closed = true;
    });
  }

  /** Writes, waiting for the socket to drain; false once the broker closed it. */
  async write(bytes: Buffer): Promise<boolean> {
    if (this.closed || this.socket.destroyed) return false;
    if (this.socket.write(bytes)) return true;
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        this.socket.off('drain', onDrain);
        this.socket.off('close', onClose);
        resolve(ok);
      };
      const onDrain = () => done(true);
      const onClose = () => done(false);
      this.socket.once('drain', onDrain);
      this.socket.once('close', onClose);
    });
  }

  /** Waits until the broker sent a packet of `type` (true), closed, or `ms` passed (false). */
  async waitFor(type: number, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    for (;;) {
      if (readPackets(this.received).some((p) => p.type === type)) return true;
      if (this.closed || Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** CONNACK with return code 0 [MQTT-3.2.2.3]. */
  accepted(): boolean {
    const connack = readPackets(this.received).find((p) => p.type === PACKET.connack);
    return connack !== undefined && connack.body[1] === 0;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The suite's CONNECTs declare a 30 s keep-alive, as they always have: a seed replays the same bytes. */
const connect = (f: ConnectFields): Buffer => connectPacket({ keepalive: 30, ...f });

/** Sends `total` bytes of zeros in chunks, so that the test process never holds megabytes at once. */
async function stream(c: RawClient, total: number): Promise<void> {
  const chunk = Buffer.alloc(64 * 1024);
  for (let sent = 0; sent < total; sent += chunk.length)
    if (!(await c.write(chunk.subarray(0, Math.min(chunk.length, total - sent))))) return;
}

async function attack(ctx: ActionContext, c: RawClient, a: RawAttack): Promise<void> {
  const connectAs = async () => {
    const dev = ctx.next('raw');
    await c.write(connect({ clientId: dev.id, username: dev.id, password: dev.secret }));
    return (await c.waitFor(PACKET.connack, 5000)) && c.accepted() ? dev : null;
  };
  switch (a.kind) {
    case 'fragmented': {
      // The reading counts as acknowledged only if its PUBACK came back whole.
      const dev = ctx.next('raw');
      const { payload, stamps } = buildValid({ count: 1, asArray: false, dim: 50 }, ctx.ts);
      const bytes = Buffer.concat([
        connect({ clientId: dev.id, username: dev.id, password: dev.secret }),
        publishPacket(`devices/${dev.id}/telemetry`, payload, 1, 7),
      ]);
      let at = 0;
      for (const cut of [...a.cuts, bytes.length]) {
        const end = Math.min(bytes.length, at + cut);
        if (end > at && !(await c.write(bytes.subarray(at, end)))) return;
        at = end;
        if (a.pauseMs) await pause(a.pauseMs);
      }
      if (await c.waitFor(PACKET.puback, 5000)) ctx.ledger.ackedValid(dev.id, stamps);
      return;
    }
    case 'declaredLength': {
      if (a.packet === 'publish' && !(await connectAs())) return;
      await c.write(
        Buffer.concat([Buffer.from([a.packet === 'connect' ? 0x10 : 0x32]), remainingLength(a.declared)]),
      );
      await stream(c, Math.min(a.sent, a.declared));
      await pause(a.holdMs);
      return;
    }
    case 'badVarint': {
      if (a.afterConnect && !(await connectAs())) return;
      await c.write(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x7f, ...Buffer.alloc(32)]));
      await c.waitFor(-1, 200);
      return;
    }
    case 'mutated': {
      const dev = ctx.next('raw');
      const bytes = Buffer.concat([
        connect({ clientId: dev.id, username: dev.id, password: dev.secret }),
        publishPacket(
          `devices/${dev.id}/telemetry`,
          buildValid({ count: 2, asArray: true, dim: 9 }, ctx.ts).payload,
          1,
          3,
        ),
      ]);
      for (const f of a.flips) bytes[f.at % bytes.length] = f.value;
      await c.write(bytes);
      await c.waitFor(PACKET.puback, 500);
      return;
    }
    case 'noise': {
      if (a.afterConnect && !(await connectAs())) return;
      await c.write(Buffer.from(a.bytes));
      await c.waitFor(-1, 200);
      return;
    }
    case 'badAuth': {
      const v = ctx.fleet.victim;
      const fields = {
        wrongSecret: { clientId: v.id, username: v.id, password: `${v.secret}x` },
        unknownId: { clientId: `nobody-${a.idLength}`, username: `nobody-${a.idLength}`, password: 'secret' },
        longId: { clientId: 'x'.repeat(a.idLength), username: 'x'.repeat(a.idLength), password: 'secret' },
        noPassword: { clientId: v.id, username: v.id },
      }[a.variant];
      await c.write(connect(fields));
      await c.waitFor(PACKET.connack, 3000);
      return;
    }
    case 'topics': {
      const dev = await connectAs();
      if (!dev) return;
      const other = ctx.fleet.valid[0].id;
      let id = 1;
      for (const t of a.publishTo)
        await c.write(publishPacket(fillTopic(t, dev.id, other), Buffer.from('{}'), 1, id++));
      if (a.subscribe.length)
        await c.write(
          subscribePacket(
            a.subscribe.map((t) => fillTopic(t, dev.id, other)),
            id++,
          ),
        );
      await c.waitFor(-1, 200);
      return;
    }
  }
}

/** One raw-socket attack from its own loopback address; the socket is gone when it returns. */
export async function runRawAttack(ctx: ActionContext, a: RawAttack): Promise<void> {
  const c = new RawClient(new URL(ctx.mqttUrl), ctx.sourceAddress());
  try {
    await new Promise<void>((resolve, reject) => {
      c.socket.once('connect', resolve);
      c.socket.once('error', reject);
    });
    await attack(ctx, c, a);
  } finally {
    c.destroy();
  }
}
