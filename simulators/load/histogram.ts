/**
 * A log-linear latency histogram in microseconds (16 sub-buckets per power of two, so a bucket is
 * at most 1/16 = 6.25 % wide), small enough to travel between processes as a plain array and
 * merge by addition. Values from 1 µs to about 35 minutes.
 */
const SUB_BITS = 4;
const SUB = 1 << SUB_BITS;
const MAX_EXP = 31;
export const HISTOGRAM_BUCKETS = (MAX_EXP - SUB_BITS + 1) * SUB;

function indexOf(us: number): number {
  const v = Math.min(Math.max(0, Math.round(us)), 2 ** MAX_EXP - 1);
  if (v < 2 * SUB) return v;
  const e = 31 - Math.clz32(v);
  return (e - SUB_BITS) * SUB + (v >>> (e - SUB_BITS));
}

/** The smallest value of a bucket and its width. */
function bucketRange(index: number): { low: number; width: number } {
  if (index < 2 * SUB) return { low: index, width: 1 };
  const e = Math.floor(index / SUB) + SUB_BITS - 1;
  const m = (index % SUB) + SUB;
  return { low: m * 2 ** (e - SUB_BITS), width: 2 ** (e - SUB_BITS) };
}

export class LatencyHistogram {
  readonly counts: number[];
  count = 0;
  max = 0;
  sum = 0;

  constructor(counts?: readonly number[]) {
    this.counts = counts ? [...counts] : new Array<number>(HISTOGRAM_BUCKETS).fill(0);
    if (counts) {
      this.counts.forEach((n, i) => {
        if (!n) return;
        const { low, width } = bucketRange(i);
        this.count += n;
        this.sum += n * (low + width / 2);
        this.max = Math.max(this.max, low + width - 1);
      });
    }
  }

  record(us: number): void {
    this.counts[indexOf(us)]++;
    this.count++;
    this.sum += us;
    if (us > this.max) this.max = us;
  }

  merge(other: LatencyHistogram | readonly number[]): void {
    const o = other instanceof LatencyHistogram ? other : new LatencyHistogram(other);
    for (let i = 0; i < HISTOGRAM_BUCKETS; i++) this.counts[i] += o.counts[i];
    this.count += o.count;
    this.sum += o.sum;
    this.max = Math.max(this.max, o.max);
  }

  /** The value at quantile q (0..1), as the middle of its bucket; NaN when empty. */
  quantile(q: number): number {
    if (this.count === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < HISTOGRAM_BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= rank) {
        const { low, width } = bucketRange(i);
        return Math.min(this.max, low + (width - 1) / 2);
      }
    }
    return this.max;
  }

  mean(): number {
    return this.count ? this.sum / this.count : Number.NaN;
  }

  toJSON(): number[] {
    return this.counts;
  }
}

/** Exact percentiles of a small sample (fan-out times): nearest rank. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
