import { Command, InvalidArgumentError } from 'commander';
import { hostileMarkdown, hostileSummary, measureHostile } from '../bench/hostile.ts';

/**
 * The bench's hostile-client section alone, on a fresh gateway process:
 * `npx tsx simulators/hostile/cli.ts --seconds 15 --seed 42` (`npm run bench` runs it too).
 */
const int = (v: string) => {
  const x = Number(v);
  if (!Number.isInteger(x) || x < 0) throw new InvalidArgumentError('a non-negative integer');
  return x;
};
const o = new Command('hostile')
  .description('citygate hostile-client suite against a fresh gateway process')
  .option('--seconds <s>', 'seconds of generated scenarios', int, 60)
  .option('--seed <n>', 'fast-check seed', int)
  .option('--secret-cost <n>', 'scrypt cost of the device secrets', int, 1024)
  .parse()
  .opts();

const log = (line: string) => process.stderr.write(`${line}\n`);
const result = await measureHostile({
  seconds: o.seconds,
  seed: o.seed ?? Math.floor(Math.random() * 2 ** 31),
  secretCost: o.secretCost,
  log,
});
process.stdout.write(`${hostileMarkdown(result).join('\n')}\n`);
if (result.counterexample) process.stdout.write(`${result.counterexample.slice(0, 4000)}\n`);
process.stdout.write(`${hostileSummary(result)}\n`);
process.exit(result.violations.length ? 1 : 0);
