import type { Command } from 'commander';
import { lastAnswer } from './api-client.ts';

const leaves = (cmd: Command): Command[] =>
  cmd.commands.flatMap((c) => (c.commands.length ? leaves(c) : [c]));

/**
 * `--json` on every command. A command that declares its own `--json` prints its answer itself;
 * for the others the human output is held back and the API's last answer is printed as it came
 * (for `send` and `bulk`, the final state they waited for). Call after every command is added.
 */
export function addJsonOutput(program: Command): void {
  const own = new Set<Command>();
  for (const c of leaves(program)) {
    if (c.options.some((o) => o.long === '--json')) own.add(c);
    else c.option('--json', 'print the raw JSON answer of the API instead');
  }
  const print = console.log;
  program.hook('preAction', (_program, action) => {
    if (own.has(action) || !action.opts().json) return;
    lastAnswer.keep = true;
    console.log = () => {};
  });
  program.hook('postAction', (_program, action) => {
    if (own.has(action) || !action.opts().json) return;
    console.log = print;
    print(JSON.stringify(lastAnswer.body ?? null, null, 2));
  });
}
