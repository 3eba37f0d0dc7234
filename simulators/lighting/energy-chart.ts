import { writeFileSync } from 'node:fs';
import { type Device, newDevice } from '../../device-registry/devices.ts';
import { loadSpecs } from '../../firmware-specs/index.ts';
import { hanoiCalendar, hanoiPrograms } from '../../firmware-specs/lighting/hanoi.ts';
import { CalendarResolver } from '../../gateway/lighting/calendar.ts';
import { nightEnergy } from '../../gateway/lighting/energy.ts';
import { localInstant } from '../../gateway/lighting/local-time.ts';
import { buildNightUnits } from '../../gateway/lighting/night-units.ts';
import { calendarSchema, programSchema } from '../../gateway/lighting/program.ts';
import { SunCache } from '../../gateway/lighting/sun.ts';
import { placeDevices } from '../hanoi.ts';
import { createPattern } from '../patterns.ts';

/**
 * `npx tsx simulators/lighting/energy-chart.ts [lamps]`: the energy of the Hanoi calendar per
 * district over a few nights for the demo city's streetlights (placed as the simulators place
 * them, each lamp's full power taken from one simulated reading at 100 %), with the code the
 * API runs (gateway/lighting/energy.ts). Writes docs/lighting-energy.svg and .json.
 */
const LAMPS = Number(process.argv[2] ?? 30_000);
const NIGHTS = [
  ['2026-11-30', 'weekday'],
  ['2026-12-05', 'weekend'],
  ['2026-12-31', 'New Year’s Eve'],
] as const;

const specs = await loadSpecs();
const plans = placeDevices({ perFamily: { streetlight: LAMPS }, seed: 'hanoi-lighting-energy' }, specs);
const devices = new Map<string, Device>();
for (const p of plans) {
  const d = newDevice(p, 'streetlight', 0);
  // One reading at full level gives the lamp's power, as a live lamp's last reading does.
  const pattern = createPattern('streetlight', { seed: p.id, lat: p.lat, lon: p.lon });
  pattern.apply({ dim_percent: 100 });
  d.lastReading = pattern.read(localInstant('2026-11-30', 20 * 60));
  devices.set(d.id, d);
}
const resolver = new CalendarResolver(calendarSchema.parse(hanoiCalendar));
const programs = new Map(hanoiPrograms.map((p) => [p.id, programSchema.parse(p)]));
const sun = new SunCache();
const source = { get: (id: string) => devices.get(id), spec: (d: Device) => specs.get(d.model) };
const results = NIGHTS.map(([night, label]) => ({
  label,
  ...nightEnergy(buildNightUnits(night, devices.values(), resolver, programs, sun), source, sun),
}));

for (const r of results) {
  const t = r.total;
  console.log(
    `${r.night} (${r.label}): ${t.lamps} lamps, ${t.fullPowerKw} kW at full power; program ${t.programKwh} kWh, ` +
      `all night at 100 % ${t.allNightKwh} kWh: saving ${t.savingKwh} kWh (${t.savingPercent} %)`,
  );
}

// ---- SVG: the weekday night per district (program vs all night), and the nights' totals.
const main = results[0];
const rows = main.districts;
const W = 1080;
const barH = 11;
const top = 70;
const left = 150;
const plotW = 620;
const H = top + rows.length * (2 * barH + 6) + 150;
const max = Math.max(...rows.map((r) => r.allNightKwh));
const x = (kwh: number) => (kwh / max) * plotW;
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
const out: string[] = [
  `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" fill="#222f3e">`,
  `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
  `<text x="20" y="28" font-size="15" font-weight="bold">Street lighting energy per district, night of ${main.night} (${main.label})</text>`,
  `<text x="20" y="46" font-size="12">${main.total.lamps.toLocaleString('en')} simulated lamps, Hanoi calendar (docs/design.md, "Street lighting"); kWh per night; saving against every lamp at 100 % from sunset to sunrise</text>`,
  `<rect x="${left}" y="54" width="12" height="8" fill="#c8d6e5"/><text x="${left + 16}" y="62" font-size="11">all night at 100 %</text>`,
  `<rect x="${left + 140}" y="54" width="12" height="8" fill="#ee9b00"/><text x="${left + 156}" y="62" font-size="11">with the program</text>`,
];
rows.forEach((r, i) => {
  const y = top + i * (2 * barH + 6);
  out.push(
    `<text x="${left - 8}" y="${y + barH + 4}" font-size="11" text-anchor="end">${esc(r.district)}</text>`,
    `<rect x="${left}" y="${y}" width="${x(r.allNightKwh).toFixed(1)}" height="${barH}" fill="#c8d6e5"/>`,
    `<rect x="${left}" y="${y + barH}" width="${x(r.programKwh).toFixed(1)}" height="${barH}" fill="#ee9b00"/>`,
    `<text x="${left + x(r.allNightKwh) + 6}" y="${y + barH + 4}" font-size="10">${r.programKwh} / ${r.allNightKwh} kWh, −${r.savingPercent} %</text>`,
  );
});
let y = top + rows.length * (2 * barH + 6) + 30;
out.push(`<text x="20" y="${y}" font-size="13" font-weight="bold">Whole city, per night</text>`);
for (const r of results) {
  y += 22;
  const t = r.total;
  out.push(
    `<text x="20" y="${y}" font-size="12">${r.night} (${esc(r.label)}): ${t.programKwh.toLocaleString('en')} kWh with the program, ${t.allNightKwh.toLocaleString('en')} kWh all night at full power: saving ${t.savingKwh.toLocaleString('en')} kWh (${t.savingPercent} %)</text>`,
  );
}
out.push(
  `<text x="20" y="${y + 26}" font-size="10" fill="#576574">LED power taken as proportional to the dimming level. Generated by simulators/lighting/energy-chart.ts.</text>`,
  '</svg>',
);
writeFileSync('docs/lighting-energy.svg', `${out.join('\n')}\n`);
writeFileSync('docs/lighting-energy.json', `${JSON.stringify({ lamps: LAMPS, nights: results }, null, 2)}\n`);
console.log('wrote docs/lighting-energy.svg and docs/lighting-energy.json');
