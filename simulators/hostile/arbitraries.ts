import fc from 'fast-check';

/**
 * What a hostile fleet sends, as small descriptors (so that a counterexample reads as
 * `{kind: 'deep', depth: 5000}`, not as 10 KB of brackets) and the builders that turn them into
 * bytes. Shared by test/hostile-clients.test.ts and the bench. Every device here is a Lumina
 * SLC-300 on firmware 1.x; a valid reading is its example with a unique device timestamp.
 */

export const MODEL = { model: 'lumina-slc300', firmware: '1.0.0' } as const;

/** A reading the schema refuses (dim_percent is 0..100): 10 bytes, as in issue 8's row 6. */
const INVALID_READING = '{"dim":-1}';

export function validReading(ts: number, dim = 70): Record<string, unknown> {
  return { on: true, dim, p: 84.5, lux: 3.2, hrs: 10412.5, err: 0, ts };
}

/** Telemetry a healthy device sends: one reading or an array (at most 1,000, issue 8 §3). */
export interface ValidPayload {
  count: number;
  asArray: boolean;
  dim: number;
}

/** Telemetry that holds no valid reading, except `mixed`, whose valid ones carry timestamps. */
export type HostilePayload =
  | { kind: 'deep'; depth: number; shape: 'array' | 'object' | 'element' }
  | { kind: 'json'; value: unknown }
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'bigString'; length: number }
  | { kind: 'manyInvalid'; count: number }
  | { kind: 'mixed'; valid: number; invalid: number; invalidFirst: boolean }
  | { kind: 'ownKeys'; key: string; value: unknown }
  | { kind: 'wrongField'; field: string; value: unknown };

export type ReplyPayload =
  | { kind: 'null' }
  | { kind: 'errorObject' }
  | { kind: 'resultString' }
  | { kind: 'json'; value: unknown }
  | { kind: 'deep'; depth: number }
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'wellFormed'; ok: boolean };

export type RawAttack =
  /** A valid CONNECT and a QoS 1 valid reading, cut into pieces written with pauses. */
  | { kind: 'fragmented'; cuts: number[]; pauseMs: number }
  /** A header declaring `declared` bytes, followed by `sent` bytes and a wait. */
  | { kind: 'declaredLength'; packet: 'connect' | 'publish'; declared: number; sent: number; holdMs: number }
  /** A Remaining Length of five continuation bytes [MQTT-2.2.3: at most four]. */
  | { kind: 'badVarint'; afterConnect: boolean }
  /** A valid CONNECT + PUBLISH with some bytes overwritten. */
  | { kind: 'mutated'; flips: Array<{ at: number; value: number }> }
  | { kind: 'noise'; bytes: Uint8Array; afterConnect: boolean }
  | { kind: 'badAuth'; variant: 'wrongSecret' | 'unknownId' | 'longId' | 'noPassword'; idLength: number }
  | { kind: 'topics'; publishTo: string[]; subscribe: string[] };

export type Action =
  | { on: 'valid'; payload: ValidPayload; qos: 0 | 1 }
  | { on: 'hostile'; topic: 'telemetry' | 'state'; payload: HostilePayload; qos: 0 | 1 }
  | { on: 'command'; name: string; reply: ReplyPayload }
  /** Issue 8 row 3: a persistent session whose unacknowledged poison is sent again on reconnect. */
  | { on: 'persistent'; payload: HostilePayload }
  | { on: 'raw'; attack: RawAttack };

const json = fc.jsonValue({ maxDepth: 4 });
const qos = fc.constantFrom<0 | 1>(0, 1, 1, 1);
/** Mostly small, sometimes the sizes issue 8 reproduced. */
const sized = (small: number, big: number) =>
  fc.oneof(
    { arbitrary: fc.integer({ min: 0, max: small }), weight: 4 },
    { arbitrary: fc.integer({ min: small, max: big }), weight: 1 },
  );

export const validPayload: fc.Arbitrary<ValidPayload> = fc.record({
  count: fc.oneof(
    { arbitrary: fc.integer({ min: 1, max: 5 }), weight: 4 },
    fc.integer({ min: 1, max: 1000 }),
  ),
  asArray: fc.boolean(),
  dim: fc.integer({ min: 0, max: 100 }),
});

const readingKeys = ['on', 'dim', 'p', 'lux', 'hrs', 'err', 'ts'];

export const hostilePayload: fc.Arbitrary<HostilePayload> = fc.oneof(
  fc.record({
    kind: fc.constant('deep' as const),
    depth: sized(100, 20_000),
    shape: fc.constantFrom('array' as const, 'object' as const, 'element' as const),
  }),
  fc.record({ kind: fc.constant('json' as const), value: json }),
  fc.record({ kind: fc.constant('bytes' as const), bytes: fc.uint8Array({ maxLength: 2048 }) }),
  fc.record({ kind: fc.constant('bigString' as const), length: sized(1024, 400 * 1024) }),
  fc.record({ kind: fc.constant('manyInvalid' as const), count: sized(3000, 300_000) }),
  fc.record({
    kind: fc.constant('mixed' as const),
    valid: fc.integer({ min: 1, max: 20 }),
    invalid: fc.integer({ min: 1, max: 20 }),
    invalidFirst: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('ownKeys' as const),
    key: fc.constantFrom('__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty', 'toJSON'),
    value: json,
  }),
  fc.record({
    kind: fc.constant('wrongField' as const),
    field: fc.constantFrom(...readingKeys),
    value: json,
  }),
);

export const replyPayload: fc.Arbitrary<ReplyPayload> = fc.oneof(
  fc.constant({ kind: 'null' as const }),
  fc.constant({ kind: 'errorObject' as const }),
  fc.constant({ kind: 'resultString' as const }),
  fc.record({ kind: fc.constant('json' as const), value: json }),
  fc.record({ kind: fc.constant('deep' as const), depth: sized(100, 20_000) }),
  fc.record({ kind: fc.constant('bytes' as const), bytes: fc.uint8Array({ maxLength: 512 }) }),
  fc.record({ kind: fc.constant('wellFormed' as const), ok: fc.boolean() }),
);

/** Topic strings: near misses of the device's own tree, wildcards, other devices, junk, long ones. */
export const topicString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'devices/{self}/telemetry/x',
    'devices/{self}/commands/#',
    'devices/{self}/commands/+/reply',
    'devices/{other}/telemetry',
    'devices/{other}/commands/#',
    'devices/+/telemetry',
    '#',
    '+/+/+',
    '$SYS/#',
    'devices//telemetry',
    'devices/{self}/status',
    'devices/{self}/commands/a/b/c/#',
  ),
  fc.string({ unit: 'binary', maxLength: 64 }),
  fc.integer({ min: 1, max: 60_000 }).map((n) => `devices/{self}/commands/${'x'.repeat(n)}`),
);

export const rawAttack: fc.Arbitrary<RawAttack> = fc.oneof(
  fc.record({
    kind: fc.constant('fragmented' as const),
    cuts: fc.array(fc.integer({ min: 1, max: 200 }), { maxLength: 12 }),
    pauseMs: fc.integer({ min: 0, max: 20 }),
  }),
  fc.record({
    kind: fc.constant('declaredLength' as const),
    packet: fc.constantFrom('connect' as const, 'publish' as const),
    declared: fc.oneof(fc.integer({ min: 1, max: 1 << 20 }), fc.constant(268_435_455)),
    sent: sized(4096, 4 << 20),
    holdMs: fc.integer({ min: 0, max: 300 }),
  }),
  fc.record({ kind: fc.constant('badVarint' as const), afterConnect: fc.boolean() }),
  fc.record({
    kind: fc.constant('mutated' as const),
    flips: fc.array(fc.record({ at: fc.nat(400), value: fc.integer({ min: 0, max: 255 }) }), {
      minLength: 1,
      maxLength: 6,
    }),
  }),
  fc.record({
    kind: fc.constant('noise' as const),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 4096 }),
    afterConnect: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('badAuth' as const),
    variant: fc.constantFrom(
      'wrongSecret' as const,
      'unknownId' as const,
      'longId' as const,
      'noPassword' as const,
    ),
    idLength: fc.integer({ min: 129, max: 60_000 }),
  }),
  fc.record({
    kind: fc.constant('topics' as const),
    publishTo: fc.array(topicString, { maxLength: 4 }),
    subscribe: fc.array(topicString, { maxLength: 20 }),
  }),
);

/** Command names an engineer (or a script) might send, own properties or not. */
const commandName = fc.constantFrom(
  'setDimming',
  'setDimming',
  'switchLamp',
  'toString',
  '__proto__',
  'constructor',
);

export const action: fc.Arbitrary<Action> = fc.oneof(
  { arbitrary: fc.record({ on: fc.constant('valid' as const), payload: validPayload, qos }), weight: 3 },
  {
    arbitrary: fc.record({
      on: fc.constant('hostile' as const),
      topic: fc.constantFrom('telemetry' as const, 'telemetry' as const, 'state' as const),
      payload: hostilePayload,
      qos,
    }),
    weight: 5,
  },
  {
    arbitrary: fc.record({ on: fc.constant('command' as const), name: commandName, reply: replyPayload }),
    weight: 2,
  },
  { arbitrary: fc.record({ on: fc.constant('raw' as const), attack: rawAttack }), weight: 3 },
  { arbitrary: fc.record({ on: fc.constant('persistent' as const), payload: hostilePayload }), weight: 1 },
);

/** One property run: a few actions, run concurrently. */
export const scenario: fc.Arbitrary<Action[]> = fc.array(action, { minLength: 1, maxLength: 5 });

// ---- builders --------------------------------------------------------------------------------

function nest(depth: number, shape: 'array' | 'object'): string {
  return shape === 'array'
    ? `${'['.repeat(depth)}${']'.repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** The valid readings of a payload, each with the next timestamp from `ts`. */
export function buildValid(p: ValidPayload, ts: () => number): { payload: Buffer; stamps: number[] } {
  const readings = Array.from({ length: p.asArray ? p.count : 1 }, () => validReading(ts(), p.dim));
  return {
    payload: Buffer.from(JSON.stringify(p.asArray ? readings : readings[0])),
    stamps: readings.map((r) => r.ts as number),
  };
}

/** A hostile payload; `stamps` are the timestamps of the valid readings it holds (`mixed` only). */
export function buildHostile(h: HostilePayload, ts: () => number): { payload: Buffer; stamps: number[] } {
  const text = (s: string) => ({ payload: Buffer.from(s), stamps: [] });
  switch (h.kind) {
    case 'deep':
      return h.shape === 'element'
        ? text(`[{"on":true,"dim":70,"p":84.5,"lux":3.2,"hrs":10412.5},${nest(h.depth, 'array')}]`)
        : text(nest(h.depth, h.shape));
    case 'json':
      return text(JSON.stringify(h.value) ?? 'null');
    case 'bytes':
      return { payload: Buffer.from(h.bytes), stamps: [] };
    case 'bigString':
      return text(JSON.stringify('x'.repeat(h.length)));
    case 'manyInvalid':
      return text(`[${Array(h.count).fill(INVALID_READING).join(',')}]`);
    case 'mixed': {
      const valid = Array.from({ length: h.valid }, () => validReading(ts()));
      const invalid = Array.from({ length: h.invalid }, () => JSON.parse(INVALID_READING));
      const all = h.invalidFirst ? [...invalid, ...valid] : [...valid, ...invalid];
      return { payload: Buffer.from(JSON.stringify(all)), stamps: valid.map((r) => r.ts as number) };
    }
    case 'ownKeys':
      // A literal key, so that "__proto__" is an own property of the parsed object.
      return text(`{${JSON.stringify(h.key)}:${JSON.stringify(h.value) ?? 'null'},"dim":"x"}`);
    case 'wrongField': {
      // The generated value may happen to be valid for its field: a second field makes sure it is not.
      const reading: Record<string, unknown> = { on: true, dim: 70, p: 84.5, lux: -1, hrs: 10412.5 };
      if (h.field === 'lux') reading.dim = -1;
      reading[h.field] = h.value;
      return text(JSON.stringify(reading));
    }
  }
}

export function buildReply(r: ReplyPayload): Buffer {
  switch (r.kind) {
    case 'null':
      return Buffer.from('null');
    case 'errorObject':
      return Buffer.from('{"ok":false,"error":{"toString":1}}');
    case 'resultString':
      return Buffer.from('{"ok":true,"result":"x"}');
    case 'json':
      return Buffer.from(JSON.stringify(r.value) ?? 'null');
    case 'deep':
      return Buffer.from(`{"ok":true,"result":${nest(r.depth, 'object')}}`);
    case 'bytes':
      return Buffer.from(r.bytes);
    case 'wellFormed':
      return Buffer.from(
        JSON.stringify(r.ok ? { ok: true, result: { level: 40 } } : { ok: false, error: 'E42' }),
      );
  }
}

/** A topic template with the acting device and another one filled in. */
export const fillTopic = (t: string, self: string, other: string) =>
  t.replaceAll('{self}', self).replaceAll('{other}', other);
