/**
 * The benchmark's chart as a plain SVG string: ingest throughput, publish-to-PUBACK latency and
 * the gateway's RSS against connected devices, side by side. No chart library.
 */
export interface ChartData {
  throughput: { bare: number; gateway: number; ratio: number };
  latency?: { rate: number; bare: Percentiles; gateway: Percentiles };
  rss?: { devices: number; mib: number }[];
  rssLimitMib?: number;
}

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
}

const W = 1080;
const H = 380;
const PANEL_W = 320;
const TOP = 84;
const BOTTOM = 320;
const COLORS = { bare: '#8395a7', gateway: '#2e86de', p50: '#48dbfb', p95: '#2e86de', p99: '#222f3e' };

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (n: number) =>
  n === 0
    ? '0'
    : n >= 1000
      ? Math.round(n).toLocaleString('en-US')
      : n >= 10
        ? n.toFixed(0)
        : n >= 1
          ? n.toFixed(1)
          : n.toFixed(2);

function text(x: number, y: number, s: string, attrs = ''): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attrs}>${esc(s)}</text>`;
}

/** A "nice" upper bound for a linear axis. */
function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return ([1, 2, 2.5, 5, 10].find((m) => m * p >= v) ?? 10) * p;
}

function axisY(x0: number, ticks: { v: number; y: number }[], unit: string): string {
  return [
    `<line x1="${x0}" y1="${TOP}" x2="${x0}" y2="${BOTTOM}" stroke="#576574"/>`,
    ...ticks.map(
      (t) =>
        `<line x1="${x0 - 4}" y1="${t.y.toFixed(1)}" x2="${x0 + PANEL_W - 40}" y2="${t.y.toFixed(1)}" stroke="#dfe4ea"/>` +
        text(x0 - 6, t.y + 4, fmt(t.v), 'text-anchor="end" font-size="11"'),
    ),
    text(x0 - 40, TOP - 12, unit, 'font-size="11" fill="#576574"'),
  ].join('\n');
}

function throughputPanel(x0: number, d: ChartData['throughput']): string {
  const max = niceMax(Math.max(d.bare, d.gateway) * 1.1);
  const y = (v: number) => BOTTOM - ((BOTTOM - TOP) * v) / max;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => ({ v: f * max, y: y(f * max) }));
  const bars = [
    { label: 'bare Aedes', v: d.bare, color: COLORS.bare },
    { label: 'full gateway', v: d.gateway, color: COLORS.gateway },
  ].map((b, i) => {
    const bx = x0 + 40 + i * 120;
    return (
      `<rect x="${bx}" y="${y(b.v).toFixed(1)}" width="80" height="${(BOTTOM - y(b.v)).toFixed(1)}" fill="${b.color}"/>` +
      text(bx + 40, y(b.v) - 6, fmt(b.v), 'text-anchor="middle" font-size="12" font-weight="bold"') +
      text(bx + 40, BOTTOM + 18, b.label, 'text-anchor="middle" font-size="12"')
    );
  });
  return [
    text(x0 - 40, 28, 'QoS 1 ingest throughput', 'font-size="15" font-weight="bold"'),
    text(
      x0 - 40,
      46,
      `readings/s, closed loop; gateway/bare = ${(d.ratio * 100).toFixed(0)} %`,
      'font-size="12"',
    ),
    axisY(x0, ticks, 'readings/s'),
    ...bars,
  ].join('\n');
}

function latencyPanel(x0: number, d: NonNullable<ChartData['latency']>): string {
  const all = [d.bare, d.gateway].flatMap((p) => [p.p50, p.p95, p.p99]).filter((v) => v > 0);
  const lo = 10 ** Math.floor(Math.log10(Math.min(...all)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...all) * 1.01));
  const y = (v: number) => BOTTOM - ((BOTTOM - TOP) * Math.log10(Math.max(v, lo) / lo)) / Math.log10(hi / lo);
  const ticks: { v: number; y: number }[] = [];
  for (let v = lo; v <= hi * 1.001; v *= 10) ticks.push({ v, y: y(v) });
  const groups = [
    { label: 'bare Aedes', p: d.bare },
    { label: 'full gateway', p: d.gateway },
  ].map((g, i) => {
    const gx = x0 + 30 + i * 130;
    const bars = (['p50', 'p95', 'p99'] as const).map((k, j) => {
      const bx = gx + j * 34;
      const v = g.p[k];
      return (
        `<rect x="${bx}" y="${y(v).toFixed(1)}" width="28" height="${(BOTTOM - y(v)).toFixed(1)}" fill="${COLORS[k]}"/>` +
        text(bx + 14, y(v) - 4, fmt(v), 'text-anchor="middle" font-size="10"')
      );
    });
    return [...bars, text(gx + 48, BOTTOM + 18, g.label, 'text-anchor="middle" font-size="12"')].join('\n');
  });
  const legend = (['p50', 'p95', 'p99'] as const).map(
    (k, i) =>
      `<rect x="${x0 + 140 + i * 45}" y="${TOP - 28}" width="10" height="10" fill="${COLORS[k]}"/>` +
      text(x0 + 154 + i * 45, TOP - 19, k, 'font-size="11"'),
  );
  return [
    text(x0 - 40, 28, 'Publish to PUBACK latency', 'font-size="15" font-weight="bold"'),
    text(x0 - 40, 46, `ms (log scale) at ${fmt(d.rate)} readings/s, QoS 1`, 'font-size="12"'),
    axisY(x0, ticks, 'ms'),
    ...groups,
    ...legend,
  ].join('\n');
}

function rssPanel(x0: number, points: NonNullable<ChartData['rss']>, limitMib?: number): string {
  const maxDevices = Math.max(...points.map((p) => p.devices), 1);
  const maxMib = niceMax(Math.max(...points.map((p) => p.mib), limitMib ?? 0) * 1.05);
  const x = (n: number) => x0 + 10 + ((PANEL_W - 60) * n) / maxDevices;
  const y = (v: number) => BOTTOM - ((BOTTOM - TOP) * v) / maxMib;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => ({ v: f * maxMib, y: y(f * maxMib) }));
  const path = points
    .map((p, i) => `${i ? 'L' : 'M'}${x(p.devices).toFixed(1)},${y(p.mib).toFixed(1)}`)
    .join(' ');
  return [
    text(x0 - 40, 28, 'Gateway RSS by connected devices', 'font-size="15" font-weight="bold"'),
    text(x0 - 40, 46, 'MiB (VmRSS), idle MQTT devices', 'font-size="12"'),
    axisY(x0, ticks, 'MiB'),
    limitMib
      ? `<line x1="${x0}" y1="${y(limitMib).toFixed(1)}" x2="${x0 + PANEL_W - 40}" y2="${y(limitMib).toFixed(1)}" stroke="#ee5253" stroke-dasharray="6 4"/>` +
        text(
          x0 + PANEL_W - 42,
          y(limitMib) - 5,
          `target ${fmt(limitMib)} MiB`,
          'text-anchor="end" font-size="11" fill="#ee5253"',
        )
      : '',
    `<path d="${path}" fill="none" stroke="${COLORS.gateway}" stroke-width="2"/>`,
    ...points.map(
      (p) =>
        `<circle cx="${x(p.devices).toFixed(1)}" cy="${y(p.mib).toFixed(1)}" r="4" fill="${COLORS.gateway}"/>` +
        text(x(p.devices), y(p.mib) - 9, fmt(p.mib), 'text-anchor="middle" font-size="10"') +
        text(x(p.devices), BOTTOM + 18, fmt(p.devices), 'text-anchor="middle" font-size="11"'),
    ),
    text(x0 + (PANEL_W - 40) / 2, BOTTOM + 36, 'connected devices', 'text-anchor="middle" font-size="11"'),
  ].join('\n');
}

export function renderChart(d: ChartData): string {
  const panels = [throughputPanel(60, d.throughput)];
  if (d.latency) panels.push(latencyPanel(60 + 360, d.latency));
  if (d.rss?.length) panels.push(rssPanel(60 + 720, d.rss, d.rssLimitMib));
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" fill="#222f3e">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    ...panels,
    '</svg>',
    '',
  ].join('\n');
}
