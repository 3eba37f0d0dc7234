/** A bucket as GET /api/devices/{id}/history answers it. */
export interface ChartBucket {
  t: string;
  count: number;
  min: number;
  mean: number;
  max: number;
  last: number;
}

export interface ChartInput {
  title: string;
  from: string;
  to: string;
  step: string;
  buckets: ChartBucket[];
  width?: number;
  height?: number;
}

const EIGHTHS = [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3600_000, d: 86_400_000 };
const stepMs = (step: string) => Number(step.slice(0, -1)) * UNIT_MS[step.slice(-1)];
const minuteIso = (ms: number) => `${new Date(ms).toISOString().slice(0, 16)}Z`;
const num = (v: number) => (Number.isInteger(v) ? String(v) : v.toPrecision(4).replace(/\.?0+$/, ''));

/**
 * A block chart of the bucket means, one column per time slot from `from` to `to` (an empty
 * bucket is a gap), several slots per column when there are more than `width`; the y axis runs
 * from the lowest to the highest mean drawn, and a last line gives the true min, mean and max.
 */
export function renderChart(input: ChartInput): string {
  const width = input.width ?? 72;
  const height = input.height ?? 8;
  const from = Date.parse(input.from);
  const step = stepMs(input.step);
  const slots = Math.max(1, Math.round((Date.parse(input.to) - from) / step));
  const perColumn = Math.ceil(slots / width);
  const columns = Math.ceil(slots / perColumn);
  const sums = new Array<number>(columns).fill(0);
  const counts = new Array<number>(columns).fill(0);
  for (const b of input.buckets) {
    const col = Math.floor((Date.parse(b.t) - from) / step / perColumn);
    if (col < 0 || col >= columns) continue;
    sums[col] += b.mean * b.count;
    counts[col] += b.count;
  }
  const means = sums.map((s, i) => (counts[i] ? s / counts[i] : null));
  const drawn = means.filter((m): m is number => m !== null);
  const lines = [input.title];
  if (!drawn.length) {
    lines.push(`no readings between ${minuteIso(from)} and ${input.to} (step ${input.step})`);
    return lines.join('\n');
  }
  const lo = Math.min(...drawn);
  const hi = Math.max(...drawn);
  // Eighths of a cell per column; a flat series sits at half height.
  const level = (m: number) =>
    hi === lo ? height * 4 : Math.max(1, Math.round(((m - lo) / (hi - lo)) * height * 8));
  const hiLabel = num(hi);
  const loLabel = num(lo);
  const pad = Math.max(hiLabel.length, loLabel.length);
  for (let row = height - 1; row >= 0; row--) {
    const label = row === height - 1 ? hiLabel : row === 0 ? loLabel : '';
    const axis = row === height - 1 || row === 0 ? '┤' : '│';
    const cells = means
      .map((m) => (m === null ? ' ' : EIGHTHS[Math.min(8, Math.max(0, level(m) - row * 8))]))
      .join('');
    lines.push(`${label.padStart(pad)} ${axis}${cells}`.trimEnd());
  }
  lines.push(`${' '.repeat(pad)} └${'─'.repeat(columns)}`);
  const start = minuteIso(from);
  const end = minuteIso(from + slots * step);
  lines.push(
    `${' '.repeat(pad + 2)}${start}${end.padStart(Math.max(end.length + 1, columns - start.length))}`,
  );
  const all = input.buckets;
  const count = all.reduce((n, b) => n + b.count, 0);
  const mean = all.reduce((s, b) => s + b.mean * b.count, 0) / count;
  const last = all[all.length - 1];
  lines.push(
    `${all.length} buckets of ${input.step}${perColumn > 1 ? ` (${perColumn} per column)` : ''}, ${count} readings: ` +
      `min ${num(Math.min(...all.map((b) => b.min)))}  mean ${num(mean)}  max ${num(Math.max(...all.map((b) => b.max)))}  ` +
      `last ${num(last.last)} (bucket ${minuteIso(Date.parse(last.t))})`,
  );
  return lines.join('\n');
}
