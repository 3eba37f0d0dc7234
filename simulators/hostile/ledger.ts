import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GatewayApi } from '../load/gateway-api.ts';

/**
 * What the hostile clients were told is safe (a PUBACK), and the check of it against what the
 * gateway kept. The comparison, per kind of acknowledged QoS 1 telemetry payload:
 *
 * - a payload of valid readings only: every one of its readings is stored (found in the sink's
 *   line-protocol archive by device id and its unique device timestamp);
 * - a payload with no valid reading: it is quarantined, so each device has at least as many
 *   quarantine entries as such payloads acknowledged (exactly as many when the quarantine keeps one
 *   entry per payload, more when it keeps one per refused array element); a shortfall is allowed
 *   only up to the entries the gateway says it evicted to keep its bounds (`quarantineEvicted` in
 *   /api/stats, where the gateway counts it);
 * - a payload mixing valid and invalid readings: counted as above for the quarantine, and its
 *   valid readings are stored all or none (the gateway may take the valid part or refuse the whole).
 *
 * Payloads the gateway refused without a PUBACK (oversized, rate limited, connection closed) are
 * not counted: the device still holds them.
 */
export class Ledger {
  readonly valid: Array<{ deviceId: string; stamps: number[] }> = [];
  readonly mixed: Array<{ deviceId: string; stamps: number[] }> = [];
  readonly hostile = new Map<string, number>();
  replies = 0;
  /** Actions that ended in an error: a refused connection, a timeout. */
  refused = 0;
  /** QoS 1 publishes (over mqtt.js) that got no PUBACK: refused, cut off or timed out. */
  unacknowledged = 0;

  ackedValid(deviceId: string, stamps: number[]): void {
    this.valid.push({ deviceId, stamps });
  }

  ackedHostile(deviceId: string, stamps: number[]): void {
    this.hostile.set(deviceId, (this.hostile.get(deviceId) ?? 0) + 1);
    if (stamps.length) this.mixed.push({ deviceId, stamps });
  }

  get validReadings(): number {
    return this.valid.reduce((n, v) => n + v.stamps.length, 0);
  }

  get hostilePayloads(): number {
    return [...this.hostile.values()].reduce((a, b) => a + b, 0);
  }
}

/** Device id → timestamps stored, from the archive sink's files (`<data>/archive/*.lp`). */
export function readArchive(dataDir: string): Map<string, Set<number>> {
  const out = new Map<string, Set<number>>();
  const dir = join(dataDir, 'archive');
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.lp'));
  } catch {
    return out;
  }
  for (const f of files)
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
      const at = line.indexOf(',device_id=');
      if (at < 0) continue;
      const start = at + ',device_id='.length;
      const end = line.slice(start).search(/[, ]/);
      const id = line.slice(start, end < 0 ? undefined : start + end);
      const set = out.get(id) ?? new Set<number>();
      out.set(id, set);
      set.add(Number(line.slice(line.lastIndexOf(' ') + 1)));
    }
  return out;
}

/** Quarantine entries of one device, paged through GET /api/quarantine, counted up to `enough`. */
export async function quarantineEntries(api: GatewayApi, deviceId: string, enough: number): Promise<number> {
  let count = 0;
  let beforeId: number | undefined;
  for (let page = 0; page < 1000 && count < enough; page++) {
    const q = `/api/quarantine?deviceId=${encodeURIComponent(deviceId)}&limit=100${beforeId ? `&beforeId=${beforeId}` : ''}`;
    const res = await api.call<{ entries: Array<{ id: number }> }>('GET', q);
    if (res.status !== 200)
      throw new Error(`GET ${q}: ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
    count += res.body.entries.length;
    if (res.body.entries.length < 100) break;
    beforeId = Math.min(...res.body.entries.map((e) => e.id));
  }
  return count;
}

export interface Audit {
  violations: string[];
  storedReadings: number;
  quarantineEntries: number;
}

/** The comparison above; waits up to `timeoutMs` for the sink to catch up with the valid readings. */
export async function audit(
  ledger: Ledger,
  api: GatewayApi,
  dataDir: string,
  timeoutMs = 20_000,
): Promise<Audit> {
  const violations: string[] = [];
  const deadline = Date.now() + timeoutMs;
  let stored = readArchive(dataDir);
  const missing = () =>
    ledger.valid.flatMap((v) =>
      v.stamps.filter((ts) => !stored.get(v.deviceId)?.has(ts)).map((ts) => `${v.deviceId}@${ts}`),
    );
  while (missing().length && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    stored = readArchive(dataDir);
  }
  const lost = missing();
  if (lost.length)
    violations.push(
      `${lost.length} of ${ledger.validReadings} acknowledged valid readings not stored (${lost.slice(0, 5).join(', ')})`,
    );
  for (const m of ledger.mixed) {
    const kept = m.stamps.filter((ts) => stored.get(m.deviceId)?.has(ts)).length;
    if (kept && kept < m.stamps.length)
      violations.push(
        `${m.deviceId}: a mixed payload's valid readings stored in part (${kept} of ${m.stamps.length})`,
      );
  }
  // Entries the gateway says it evicted to keep the quarantine's bounds may be any device's.
  const stats = await api.call<{ quarantineEvicted?: number }>('GET', '/api/stats');
  const evicted = stats.body?.quarantineEvicted ?? 0;
  let entries = 0;
  const short: string[] = [];
  let shortfall = 0;
  for (const [deviceId, acked] of ledger.hostile) {
    let n: number;
    try {
      n = await quarantineEntries(api, deviceId, acked);
    } catch (err) {
      violations.push((err as Error).message);
      continue;
    }
    entries += n;
    if (n < acked) {
      shortfall += acked - n;
      short.push(`${deviceId}: ${acked} acknowledged, ${n} entries`);
    }
  }
  if (shortfall > evicted)
    violations.push(
      `invalid payloads acknowledged but not quarantined: ${shortfall}, evicted by the gateway: ${evicted} (${short.slice(0, 5).join('; ')})`,
    );
  let storedReadings = 0;
  for (const set of stored.values()) storedReadings += set.size;
  return { violations, storedReadings, quarantineEntries: entries };
}
