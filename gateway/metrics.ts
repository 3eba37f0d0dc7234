import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Command } from '../device-registry/commands.ts';

/** The gateway's counters (issue: received, accepted, quarantined, buffered, written, refusals). */
export function createMetrics() {
  const registry = new Registry();
  // The default names already start with process_ or nodejs_: citygate_process_cpu_user_seconds_total.
  collectDefaultMetrics({ register: registry, prefix: 'citygate_' });
  const counter = (name: string, help: string, labelNames: string[] = []) =>
    new Counter({ name: `citygate_${name}`, help, labelNames, registers: [registry] });
  const gauge = (name: string, help: string, collect?: (g: Gauge) => void) =>
    new Gauge({
      name: `citygate_${name}`,
      help,
      registers: [registry],
      collect: collect
        ? function (this: Gauge) {
            collect(this);
          }
        : undefined,
    });
  const commandsFinished = counter(
    'commands_total',
    'Commands that reached a final state, by command, family and final status',
    ['command', 'family', 'status'],
  );
  const commandDuration = new Histogram({
    name: 'citygate_command_duration_seconds',
    help: 'Time from a command being queued to its final state, by command and family',
    labelNames: ['command', 'family'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600],
    registers: [registry],
  });
  return {
    registry,
    /** A command reached its final state at `at`. */
    commandFinished(c: Pick<Command, 'name' | 'status' | 'createdAt'>, family: string, at: number): void {
      commandsFinished.inc({ command: c.name, family, status: c.status });
      commandDuration.observe({ command: c.name, family }, Math.max(0, at - c.createdAt) / 1000);
    },
    received: counter('readings_received_total', 'Telemetry readings received (each element of an array)', [
      'source',
    ]),
    stateReports: counter('state_reports_total', 'Reported-state messages received'),
    accepted: counter(
      'readings_accepted_total',
      'Readings that passed validation and were committed to the outbox',
      ['family'],
    ),
    quarantined: counter(
      'readings_quarantined_total',
      'Readings rejected by their schema, kept in the quarantine',
    ),
    written: counter('readings_written_total', 'Readings the sink acknowledged'),
    dropped: counter('readings_dropped_total', 'QoS 0 readings let go while the outbox was past its bound'),
    connectionsRefused: counter('connections_refused_total', 'MQTT connections refused', ['reason']),
    mqttRefused: counter(
      'mqtt_packets_refused_total',
      'MQTT packets or subscriptions refused by a transport limit (size, order, topic length, subscriptions)',
      ['reason'],
    ),
    aclDenied: counter('acl_denied_total', 'Publishes and subscriptions refused by the ACL', ['action']),
    authThrottled: counter(
      'auth_throttled_total',
      'CONNECTs refused without a credential check: banned, backoff, address_busy, id_busy, queue_full',
      ['reason'],
    ),
    deviceRateLimited: counter(
      'device_rate_limited_total',
      'Device publishes held back by the per-device rate limit until a token was free',
    ),
    sinkFailures: counter('sink_failures_total', 'Failed sink writes (retried)'),
    commandReplies: counter(
      'command_replies_total',
      'Command replies from devices by outcome: succeeded, failed, malformed, late (after a final state), unknown (no such command)',
      ['outcome'],
    ),
    quarantineEvicted: counter(
      'quarantine_evicted_total',
      'Quarantine entries and dead letters removed to keep their bounds (oldest first)',
      ['store'],
    ),
    ingestErrors: counter(
      'ingest_errors_total',
      'Device messages on which a handler threw (quarantined as internal errors, acknowledged)',
    ),
    buffered: gauge('outbox_readings', 'Readings waiting in the outbox'),
    bufferedBytes: gauge('outbox_bytes', 'Bytes of line protocol waiting in the outbox'),
    connected: gauge('mqtt_connected_devices', 'Devices connected over MQTT'),
    ready: gauge('ready', '1 when /readyz answers 200, else 0'),
    diskFull: counter('disk_full_total', 'Writes that found the disk full, once per fault and place', [
      'place',
    ]),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

export async function counterValue(c: Counter): Promise<number> {
  const m = await c.get();
  return m.values.reduce((sum, v) => sum + v.value, 0);
}
