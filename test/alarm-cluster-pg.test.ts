import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceStore } from '../device-registry/devices.ts';
import { PgAlarmStore } from '../device-registry/pg/pg-alarms.ts';
import { openPgRegistry, type PgPool } from '../device-registry/pg/pg-db.ts';
import { AlarmService } from '../gateway/alarms/alarm-service.ts';
import type { AlarmSignal } from '../gateway/alarms/types.ts';
import { createEventBus, type GatewayEvent } from '../gateway/events/bus.ts';
import { isRelayed } from '../gateway/events/relayed-events.ts';
import { deviceOf } from './helpers/alarms.ts';
import { FakeClock } from './helpers/fake-clock.ts';
import { linkedNodeBuses } from './helpers/linked-nodes-bus.ts';
import { createTestDatabase, type TestDatabase } from './helpers/pg.ts';

/*
 * Issue 11: gateway nodes B and C share one PostgreSQL database, each with its own pool, alarm
 * service and event bus, linked by a cluster bus. A device moving between them, operators acting
 * through either node's API, and a node dying must still give one alarm and one history.
 */

let db: TestDatabase;
const pools: PgPool[] = [];
const clock = new FakeClock(1_800_000_000_000);
const log = pino({ level: 'silent' });
const device = deviceOf('lumina-slc300', { id: `lamp-${Math.random().toString(36).slice(2, 8)}` });
const devices = { get: (id: string) => (id === device.id ? device : undefined) } as unknown as DeviceStore;

interface Node {
  service: AlarmService;
  events: GatewayEvent[];
}

async function startNodes(): Promise<Record<'b' | 'c', Node>> {
  const buses = linkedNodeBuses(['b', 'c']);
  const make = async (id: 'b' | 'c'): Promise<Node> => {
    const pool = await openPgRegistry(db.url, { max: 4 });
    pools.push(pool);
    const bus = createEventBus(() => {});
    const events: GatewayEvent[] = [];
    bus.subscribe((e) => events.push(e));
    const service = new AlarmService({
      store: new PgAlarmStore(pool),
      devices,
      clock,
      log,
      events: bus,
      cluster: buses[id],
    });
    await service.recover();
    return { service, events };
  };
  return { b: await make('b'), c: await make('c') };
}

const signal = (kind: 'raise' | 'clear', ruleId: string, at = clock.now()): AlarmSignal => ({
  kind,
  deviceId: device.id,
  ruleId,
  severity: 'major',
  value: 7,
  message: `lamp fault 7 (${ruleId})`,
  at,
});

const settled = (n: Node) => n.service.stop().then(() => undefined);

beforeAll(async () => {
  db = await createTestDatabase('alarm_cluster');
});

afterAll(async () => {
  for (const p of pools) await p.end();
  await db?.drop();
});

describe('alarms on a cluster of nodes sharing PostgreSQL', () => {
  it('the same device and rule raised on two nodes at once gives one open alarm, repeated once', async () => {
    const { b, c } = await startNodes();
    const rules = Array.from({ length: 20 }, (_, i) => `rule_${i}`);
    for (const r of rules) {
      b.service.signal(signal('raise', r));
      c.service.signal(signal('raise', r));
    }
    await Promise.all([settled(b), settled(c)]);
    const { alarms } = await b.service.list({ deviceId: device.id, limit: 100, offset: 0 });
    expect(alarms).toHaveLength(rules.length);
    for (const r of rules) {
      const mine = alarms.filter((a) => a.ruleId === r);
      expect(mine).toHaveLength(1);
      expect(mine[0]).toMatchObject({ state: 'active_unacknowledged', occurrences: 2 });
      const { history } = await c.service.get(mine[0].id);
      expect(history.map((h) => h.transition)).toEqual(['raised', 'repeated']);
    }
  });

  it('an acknowledgement through each node at once: one wins, the other is refused as already acknowledged', async () => {
    const { b, c } = await startNodes();
    b.service.signal(signal('raise', 'ack_race'));
    await settled(b);
    const { alarms } = await b.service.list({
      deviceId: device.id,
      states: ['active_unacknowledged'],
      limit: 50,
      offset: 0,
    });
    const id = alarms.find((a) => a.ruleId === 'ack_race')!.id;
    const outcomes = await Promise.allSettled([
      b.service.acknowledge(id, 'ana'),
      c.service.acknowledge(id, 'bao'),
      c.service.shelve(id, 'chi', 30, 'crew on site'),
    ]);
    const acks = outcomes.slice(0, 2);
    expect(acks.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const refused = acks.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason.code).toBe('ALM_ERR_NOT_ACKNOWLEDGEABLE');
    expect(outcomes[2].status).toBe('fulfilled');
    const { alarm, history } = await c.service.get(id);
    expect(alarm).toMatchObject({ state: 'active_acknowledged', shelvedBy: 'chi' });
    expect(history.map((h) => h.transition).sort()).toEqual(['acknowledged', 'raised', 'shelved']);
  });

  it('shows a transition made on another node on its own live events, marked as relayed', async () => {
    const { b, c } = await startNodes();
    b.service.signal(signal('raise', 'relay'));
    await expect
      .poll(() => c.events.find((e) => e.type === 'alarm' && e.alarm.ruleId === 'relay'))
      .toMatchObject({ transition: 'raised', actor: 'system' });
    const relayed = c.events.find((e) => e.type === 'alarm' && e.alarm.ruleId === 'relay')!;
    expect(isRelayed(relayed)).toBe(true);
    const own = b.events.find((e) => e.type === 'alarm' && e.alarm.ruleId === 'relay')!;
    expect(isRelayed(own)).toBe(false);
    // The other node's open-alarm figure (read by its summary every second) counts it too.
    await expect.poll(() => c.service.openBySeverity(device.district).major).toBeGreaterThan(0);
    expect(c.service.openBySeverity(device.district)).toEqual(b.service.openBySeverity(device.district));
  });

  it('a clear never overtakes its raise, and a shelf expires after the node that shelved it died', async () => {
    const { b, c } = await startNodes();
    b.service.signal(signal('raise', 'shelf'));
    b.service.signal(signal('clear', 'shelf'));
    b.service.signal(signal('raise', 'shelf'));
    await settled(b);
    const { alarms } = await c.service.list({ deviceId: device.id, limit: 100, offset: 0 });
    const alarm = alarms.find((a) => a.ruleId === 'shelf')!;
    expect(alarm).toMatchObject({ state: 'active_unacknowledged', occurrences: 2 });
    const b2 = (await startNodes()).b;
    await b2.service.shelve(alarm.id, 'ana', 10, 'maintenance');
    await b2.service.stop(); // node B dies with the shelf's timer
    await c.service.sweep();
    clock.advance(10 * 60_000);
    await expect.poll(async () => (await c.service.get(alarm.id)).alarm.shelvedUntil).toBeNull();
    const { history } = await c.service.get(alarm.id);
    expect(history.map((h) => `${h.transition}:${h.actor}`)).toEqual([
      'raised:system',
      'cleared:system',
      'repeated:system',
      'shelved:ana',
      'unshelved:system',
    ]);
  });
});
