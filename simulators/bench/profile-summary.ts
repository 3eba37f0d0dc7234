import { readFileSync } from 'node:fs';
import { Command } from 'commander';

/**
 * Where a V8 CPU profile (`npm run bench -- --cpu-prof`, or node --cpu-prof) spent its time:
 * self and inclusive shares per function, optionally within a time window from the start.
 *   npx tsx simulators/bench/profile-summary.ts tmp/bench-profiles/CPU.*.cpuprofile --from 20 --to 35
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const o = new Command('profile-summary')
  .argument('<file>', 'a .cpuprofile')
  .option('--from <s>', 'seconds from the start of the profile', Number, 0)
  .option('--to <s>', 'seconds from the start of the profile', Number, Number.POSITIVE_INFINITY)
  .option('--top <n>', 'rows of each table', Number, 30)
  .parse();
const opts = o.opts();
const profile = JSON.parse(readFileSync(o.args[0], 'utf8')) as Profile;

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const label = (n: ProfileNode) =>
  `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url
    .replace(/.*node_modules\//, '')
    .replace(/^file:\/\/.*?\/(gateway|device-registry|firmware-specs|adapters|simulators)\//, '$1/')}:${
    n.callFrame.lineNumber + 1
  }`;

const timeOf = new Map<number, number>();
let at = 0;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  at += dt;
  if (at < opts.from * 1e6 || at > opts.to * 1e6) return;
  timeOf.set(id, (timeOf.get(id) ?? 0) + dt);
});
const total = [...timeOf.values()].reduce((a, b) => a + b, 0);
const self = new Map<string, number>();
const inclusive = new Map<string, number>();
for (const [id, t] of timeOf) {
  const key = label(byId.get(id)!);
  self.set(key, (self.get(key) ?? 0) + t);
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const k = label(byId.get(cur)!);
    if (seen.has(k)) continue;
    seen.add(k);
    inclusive.set(k, (inclusive.get(k) ?? 0) + t);
  }
}
const table = (m: Map<string, number>) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, opts.top)
    .map(([k, v]) => `${((100 * v) / total).toFixed(1).padStart(6)} %  ${k}`)
    .join('\n');
process.stdout.write(
  `${(total / 1e6).toFixed(1)} s of samples\n\nself\n${table(self)}\n\ninclusive\n${table(inclusive)}\n`,
);
