import { parseArgs } from 'node:util';
import { classifyJsonLines } from '../../functions/commons/classify';

/**
 * `suture classify`: JSON Lines `{id, log}` on stdin → `{id, class, confidence, signature}` on
 * stdout, one output line per input line. Exit 0 when every line was classified, 2 when some
 * line was unusable (its output line says why).
 */
export async function classifyCommand(argv: string[]): Promise<number> {
  parseArgs({ args: argv, options: {}, strict: true });
  const summary = await classifyJsonLines(process.stdin, process.stdout);
  if (summary.errors > 0) {
    process.stderr.write(`suture classify: ${summary.errors} of ${summary.lines} lines were not usable\n`);
    return 2;
  }
  return 0;
}
