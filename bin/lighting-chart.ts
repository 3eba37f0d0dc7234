/** A program's night as GET /api/lighting/preview answers it. */
export interface NightPreview {
  night: string;
  dayType: string;
  holiday: string | null;
  program: string;
  position: { lat: number; lon: number };
  sun: Record<'sunset' | 'sunrise' | 'civil_dusk' | 'civil_dawn', string>;
  steps: Array<{ label: string; level: number; at: string; local: string }>;
  samples: Array<{ at: string; level: number }>;
}

const EIGHTHS = [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
const OFFSET_MS = 7 * 3600_000; // Asia/Ho_Chi_Minh, no daylight saving
const local = (iso: string) => new Date(Date.parse(iso) + OFFSET_MS).toISOString().slice(11, 16);

/**
 * Level (0-100 %) against local time from noon to noon, one column per `24 h / width`, with the
 * sunset (S) and sunrise (R) columns marked under the axis and the hours every three.
 */
export function renderNightChart(p: NightPreview, width = 72, height = 8): string {
  const from = Date.parse(p.samples[0].at);
  const span = 24 * 3600_000;
  const col = (iso: string) => Math.min(width - 1, Math.floor(((Date.parse(iso) - from) / span) * width));
  const sums = new Array<number>(width).fill(0);
  const counts = new Array<number>(width).fill(0);
  for (const s of p.samples) {
    sums[col(s.at)] += s.level;
    counts[col(s.at)]++;
  }
  const levels = sums.map((s, i) => (counts[i] ? s / counts[i] : 0));
  const lines = [
    `${p.program}, night of ${p.night} (${p.holiday ?? p.dayType}) at ${p.position.lat}, ${p.position.lon}, Asia/Ho_Chi_Minh`,
  ];
  for (let row = height - 1; row >= 0; row--) {
    const label =
      row === height - 1 ? '100%' : row === 0 ? '  0%' : row === Math.floor(height / 2) ? ' 50%' : '';
    const cells = levels
      .map((l) => EIGHTHS[Math.min(8, Math.max(0, Math.round((l / 100) * height * 8) - row * 8))])
      .join('');
    lines.push(`${label.padStart(4)} ${row === 0 || row === height - 1 ? '┤' : '│'}${cells}`);
  }
  lines.push(`     └${'─'.repeat(width)}`);
  const marks = new Array<string>(width).fill(' ');
  marks[col(p.sun.sunset)] = 'S';
  marks[col(p.sun.sunrise)] = 'R';
  lines.push(`      ${marks.join('').trimEnd()}`);
  const hours = new Array<string>(width + 6).fill(' ');
  for (let h = 0; h <= 24; h += 3) {
    const text = String((12 + h) % 24).padStart(2, '0');
    const at = Math.min(width - 1, Math.round((h / 24) * width));
    for (let i = 0; i < text.length; i++) hours[at + i] = text[i];
  }
  lines.push(`      ${hours.join('').trimEnd()}`);
  lines.push(
    `S sunset ${local(p.sun.sunset)} (civil dusk ${local(p.sun.civil_dusk)})   R sunrise ${local(p.sun.sunrise)} (civil dawn ${local(p.sun.civil_dawn)})`,
  );
  lines.push(`steps: ${p.steps.map((s) => `${s.local} ${s.level}% (${s.label})`).join(', ')}`);
  return lines.join('\n');
}
