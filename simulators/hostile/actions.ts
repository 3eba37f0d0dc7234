import mqtt, { type MqttClient } from 'mqtt';
import type { GatewayApi } from '../load/gateway-api.ts';
import {
  type Action,
  buildHostile,
  buildReply,
  buildValid,
  type HostilePayload,
  type ReplyPayload,
  type ValidPayload,
} from './arbitraries.ts';
import type { Ledger } from './ledger.ts';
import { runRawAttack } from './raw-attacks.ts';

export interface Credentials {
  id: string;
  secret: string;
}

/** Registered devices by role; each role's devices are used in turn, so that concurrent actions rarely share one. */
export interface Fleet {
  valid: Credentials[];
  hostile: Credentials[];
  raw: Credentials[];
  command: Credentials[];
  /** Only ever attacked with wrong secrets: auth throttling by device id may lock it out. */
  victim: Credentials;
}

export interface ActionContext {
  mqttUrl: string;
  api: GatewayApi;
  fleet: Fleet;
  ledger: Ledger;
  /** A fresh device timestamp (ms), unique in the run. */
  ts(): number;
  next(role: 'valid' | 'hostile' | 'raw' | 'command'): Credentials;
  /** A loopback source address other than 127.0.0.1, for raw sockets. */
  sourceAddress(): string;
  /** A broken invariant (not a refusal: a gateway may refuse anything hostile). */
  violation(message: string): void;
}

const CONNECT_TIMEOUT_MS = 5000;
export const PUBLISH_TIMEOUT_MS = 10_000;
const COMMAND_WAIT_MS = 3000;

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

async function session<T>(
  ctx: ActionContext,
  dev: Credentials,
  fn: (c: MqttClient) => Promise<T>,
): Promise<T> {
  const client = await withTimeout(
    mqtt.connectAsync(ctx.mqttUrl, {
      clientId: dev.id,
      username: dev.id,
      password: dev.secret,
      reconnectPeriod: 0,
      connectTimeout: CONNECT_TIMEOUT_MS,
    }),
    CONNECT_TIMEOUT_MS + 1000,
    `connect ${dev.id}`,
  );
  client.on('error', () => {});
  try {
    return await fn(client);
  } finally {
    client.end(true);
  }
}

/** Resolves true once the QoS 1 PUBACK arrived; false when it did not (refused, closed, timed out). */
async function publish(
  ctx: ActionContext,
  client: MqttClient,
  topic: string,
  payload: Buffer,
  qos: 0 | 1,
): Promise<boolean> {
  // mqtt.js keeps an unacknowledged QoS 1 message for a reconnect that never comes: a close ends the wait.
  const closed = new Promise<boolean>((resolve) => client.once('close', () => resolve(false)));
  const acked = client.publishAsync(topic, payload, { qos }).then(() => qos === 1);
  acked.catch(() => {});
  let ok = false;
  try {
    ok = await withTimeout(Promise.race([acked, closed]), PUBLISH_TIMEOUT_MS, `publish to ${topic}`);
  } catch {}
  if (qos === 1 && !ok) ctx.ledger.unacknowledged++;
  return ok;
}

async function sendValid(ctx: ActionContext, p: ValidPayload, qos: 0 | 1): Promise<void> {
  const dev = ctx.next('valid');
  const { payload, stamps } = buildValid(p, ctx.ts);
  await session(ctx, dev, async (c) => {
    if (await publish(ctx, c, `devices/${dev.id}/telemetry`, payload, qos))
      ctx.ledger.ackedValid(dev.id, stamps);
  });
}

async function sendHostile(
  ctx: ActionContext,
  topic: 'telemetry' | 'state',
  h: HostilePayload,
  qos: 0 | 1,
): Promise<void> {
  const dev = ctx.next('hostile');
  const { payload, stamps } = buildHostile(h, ctx.ts);
  await session(ctx, dev, async (c) => {
    const acked = await publish(ctx, c, `devices/${dev.id}/${topic}`, payload, qos);
    if (acked && topic === 'telemetry') ctx.ledger.ackedHostile(dev.id, stamps);
  });
}

const paramsFor = (name: string, level: number): Record<string, unknown> =>
  name === 'setDimming' ? { level } : name === 'switchLamp' ? { on: level % 2 === 0 } : {};

/** An engineer's command to a connected device, and the device's (hostile) reply. */
async function commandAndReply(ctx: ActionContext, name: string, reply: ReplyPayload): Promise<void> {
  const dev = ctx.next('command');
  await session(ctx, dev, async (c) => {
    await c.subscribeAsync(`devices/${dev.id}/commands/+`, { qos: 1 });
    const received = new Map<string, Buffer>();
    c.on('message', (topic, payload) => received.set(topic, payload));
    const res = await ctx.api.call('POST', `/api/devices/${dev.id}/commands`, {
      name,
      params: paramsFor(name, Math.floor(ctx.ts() % 101)),
    });
    if (res.status >= 500)
      return ctx.violation(`POST command ${JSON.stringify(name)} answered ${res.status}`);
    const id = (res.body as { id?: string } | null)?.id;
    if (res.status >= 300 || !id) return;
    const topic = `devices/${dev.id}/commands/${id}`;
    const deadline = Date.now() + COMMAND_WAIT_MS;
    while (!received.has(topic) && Date.now() < deadline && c.connected)
      await new Promise((r) => setTimeout(r, 20));
    if (!received.has(topic)) return;
    if (await publish(ctx, c, `${topic}/reply`, buildReply(reply), 1)) ctx.ledger.replies++;
    for (const path of [`/api/commands/${id}`, `/api/devices/${dev.id}/commands`]) {
      const read = await ctx.api.call('GET', path);
      if (read.status >= 500)
        ctx.violation(`GET ${path} answered ${read.status} after reply ${JSON.stringify(reply)}`);
    }
  });
}

/**
 * A device on a persistent session (clean: false) publishes a hostile payload and loses its
 * connection before the PUBACK; on reconnect mqtt.js sends it again [MQTT-4.4.0-1], as a device
 * would after every restart of a gateway that crashed on it.
 */
async function persistentPoison(ctx: ActionContext, h: HostilePayload): Promise<void> {
  const dev = ctx.next('hostile');
  const { payload, stamps } = buildHostile(h, ctx.ts);
  const client = mqtt.connect(ctx.mqttUrl, {
    clientId: dev.id,
    username: dev.id,
    password: dev.secret,
    clean: false,
    reconnectPeriod: 0,
    connectTimeout: CONNECT_TIMEOUT_MS,
  });
  client.on('error', () => {});
  const connected = () => new Promise<void>((resolve) => client.once('connect', () => resolve()));
  try {
    await withTimeout(connected(), CONNECT_TIMEOUT_MS, `connect ${dev.id}`);
    const acked = client.publishAsync(`devices/${dev.id}/telemetry`, payload, { qos: 1 }).then(
      () => true,
      () => false,
    );
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.stream.destroy();
    await withTimeout(closed, CONNECT_TIMEOUT_MS, 'close');
    const again = connected();
    // Without the stores mqtt.js would start afresh and forget the message.
    client.reconnect({ incomingStore: client.incomingStore, outgoingStore: client.outgoingStore });
    await withTimeout(again, CONNECT_TIMEOUT_MS, `reconnect ${dev.id}`);
    const ok = await withTimeout(acked, PUBLISH_TIMEOUT_MS, 'publish again').catch(() => false);
    if (ok) ctx.ledger.ackedHostile(dev.id, stamps);
    else ctx.ledger.unacknowledged++;
  } finally {
    client.end(true);
  }
}

/** Runs one action; refusals and dropped connections are the gateway's right, not failures. */
export async function runAction(ctx: ActionContext, a: Action): Promise<void> {
  try {
    switch (a.on) {
      case 'valid':
        return await sendValid(ctx, a.payload, a.qos);
      case 'hostile':
        return await sendHostile(ctx, a.topic, a.payload, a.qos);
      case 'command':
        return await commandAndReply(ctx, a.name, a.reply);
      case 'raw':
        return await runRawAttack(ctx, a.attack);
      case 'persistent':
        return await persistentPoison(ctx, a.payload);
    }
  } catch {
    ctx.ledger.refused++;
  }
}
