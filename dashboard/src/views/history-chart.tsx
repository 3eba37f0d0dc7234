import 'uplot/dist/uPlot.min.css';
import { useEffect, useRef } from 'preact/hooks';
import type uPlot from 'uplot';
import { formatNumber, lang } from '../i18n/index.ts';

export interface Bucket {
  t: string;
  count: number;
  min: number;
  mean: number;
  max: number;
  last: number;
}

const COLOURS = { mean: '#58a6ff', band: '#58a6ff55' };

/**
 * One field's last 24 hours: the mean per bucket as a line, min and max as thin dashed lines.
 * uPlot is loaded on first use, so views without a chart do not pay for it.
 */
export function HistoryChart({
  field,
  unit,
  label,
  buckets,
}: {
  field: string;
  unit: string;
  label: string;
  buckets: Bucket[];
}) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    let plot: uPlot | null = null;
    let gone = false;
    const el = box.current;
    if (!el || buckets.length === 0) return;
    void import('uplot').then(({ default: UPlot }) => {
      if (gone) return;
      const xs = buckets.map((b) => Date.parse(b.t) / 1000);
      const axis = { stroke: '#9fb0c0', grid: { stroke: '#2a3848', width: 1 }, ticks: { stroke: '#2a3848' } };
      plot = new UPlot(
        {
          width: Math.max(240, el.clientWidth),
          height: 150,
          legend: { show: false },
          cursor: { drag: { x: false, y: false } },
          axes: [axis, { ...axis, size: 56, values: (_u, v) => v.map((n) => formatNumber(n, 2)) }],
          series: [
            {},
            { label: 'min', stroke: COLOURS.band, width: 1, dash: [4, 4], points: { show: false } },
            { label: unit || field, stroke: COLOURS.mean, width: 2, points: { show: buckets.length < 3 } },
            { label: 'max', stroke: COLOURS.band, width: 1, dash: [4, 4], points: { show: false } },
          ],
          tzDate: (ts) => new Date(ts * 1000),
          fmtDate: () => (d: Date) =>
            d.toLocaleTimeString(lang.get() === 'vi' ? 'vi-VN' : 'en-GB', {
              hour: '2-digit',
              minute: '2-digit',
            }),
        },
        [xs, buckets.map((b) => b.min), buckets.map((b) => b.mean), buckets.map((b) => b.max)],
        el,
      );
      el.dataset.drawn = 'true';
    });
    return () => {
      gone = true;
      plot?.destroy();
      if (el) delete el.dataset.drawn;
    };
  }, [field, unit, buckets]);

  const means = buckets.map((b) => b.mean);
  const last = buckets[buckets.length - 1];
  const summary = last
    ? `${label}: ${buckets.length} · min ${formatNumber(Math.min(...buckets.map((b) => b.min)), 2)} · max ${formatNumber(
        Math.max(...buckets.map((b) => b.max)),
        2,
      )} · ${formatNumber(last.last, 2)} ${unit}`
    : label;
  return (
    <figure class="chart" data-field={field} data-points={means.length}>
      <figcaption>
        {label}
        {unit ? ` (${unit})` : ''}
      </figcaption>
      <div ref={box} class="chart-box" role="img" aria-label={summary} />
    </figure>
  );
}
