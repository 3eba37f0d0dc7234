import type { GatewayApi } from '../load/gateway-api.ts';
import { percentile } from '../load/histogram.ts';
import type { WorkerPool } from '../load/pool.ts';

/** The bulk command's summary as GET /api/commands/bulk/{id} returns it. */
interface BulkStatus {
  counts: Record<
    'queued' | 'sent' | 'delivered' | 'succeeded' | 'failed' | 'timed_out' | 'expired' | 'cancelled',
    number
  >;
  total: number;
}

export interface FanoutResult {
  skipped?: string;
  streetlights: number;
  ratePerSecond: number;
  total?: number;
  /** Seconds from the POST until each streetlight replied (measured on the devices). */
  replied?: { count: number; p50: number; p99: number; all: number };
  /** Seconds from the POST until each streetlight received the command. */
  received?: { count: number; p50: number; p99: number; all: number };
  /** Seconds until the API counted every command in a final state. */
  apiAllDoneSeconds?: number;
  counts?: BulkStatus['counts'];
}

const TERMINAL = ['succeeded', 'failed', 'timed_out', 'expired', 'cancelled'] as const;
const POLL_MS = 100;
const TIMEOUT_MS = 30_000;

function summary(seconds: number[]) {
  const s = [...seconds].sort((a, b) => a - b);
  return { count: s.length, p50: percentile(s, 0.5), p99: percentile(s, 0.99), all: s.at(-1) ?? Number.NaN };
}

/**
 * One bulk setDimming to every streetlight (POST /api/commands/bulk), timed until each simulated
 * streetlight has replied. Skipped with a message while the gateway has no bulk command API.
 */
export async function measureFanout(opts: {
  api: GatewayApi;
  pool: WorkerPool;
  streetlights: number;
  ratePerSecond: number;
  log: (line: string) => void;
}): Promise<FanoutResult> {
  const base = { streetlights: opts.streetlights, ratePerSecond: opts.ratePerSecond };
  const since = Date.now();
  const post = await opts.api.call<{ id: string }>('POST', '/api/commands/bulk', {
    selector: { family: 'streetlight' },
    name: 'setDimming',
    params: { level: 40 },
    ratePerSecond: opts.ratePerSecond,
  });
  if (post.status === 404) {
    const skipped = 'the gateway has no bulk command API yet (POST /api/commands/bulk answered 404)';
    opts.log(`  skipped: ${skipped}`);
    return { ...base, skipped };
  }
  if (post.status >= 300)
    throw new Error(`POST /api/commands/bulk: ${post.status} ${JSON.stringify(post.body)}`);
  const id = post.body.id;
  let status: BulkStatus | undefined;
  let apiAllDoneSeconds: number | undefined;
  const deadline = since + TIMEOUT_MS;
  while (Date.now() < deadline) {
    const res = await opts.api.call<BulkStatus>('GET', `/api/commands/bulk/${encodeURIComponent(id)}`);
    if (res.status !== 200)
      throw new Error(`GET /api/commands/bulk/${id}: ${res.status} ${JSON.stringify(res.body)}`);
    status = res.body;
    const done = TERMINAL.reduce((s, k) => s + (status!.counts[k] ?? 0), 0);
    if (done >= status.total) {
      apiAllDoneSeconds = (Date.now() - since) / 1000;
      break;
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  const timings = (await opts.pool.timings(since)).filter((t) => t.name === 'setDimming');
  const replied = timings.filter((t) => t.repliedAt !== undefined && t.ok);
  const result: FanoutResult = {
    ...base,
    total: status?.total,
    counts: status?.counts,
    apiAllDoneSeconds,
    received: summary(timings.map((t) => (t.receivedAt - since) / 1000)),
    replied: summary(replied.map((t) => (t.repliedAt! - since) / 1000)),
  };
  opts.log(
    `  ${replied.length} of ${opts.streetlights} streetlights replied; p50 ${result.replied!.p50.toFixed(2)} s, ` +
      `p99 ${result.replied!.p99.toFixed(2)} s, all ${result.replied!.all.toFixed(2)} s; API done ` +
      `${apiAllDoneSeconds === undefined ? 'not within 30 s' : `${apiAllDoneSeconds.toFixed(2)} s`}`,
  );
  return result;
}
