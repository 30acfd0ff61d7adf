/**
 * One synth of the Terraform module in a fresh process (spawned by bench/synth/run.ts), which
 * prints its own synth time and the process's peak resident set size as JSON.
 */
import { synthesizeModule } from '../../modules/module-synth';

const outDir = process.argv[2];
if (!outDir) throw new Error('usage: child.ts <out-dir>');
const started = performance.now();
const module = synthesizeModule(outDir);
const synthMs = performance.now() - started;
process.stdout.write(
  `${JSON.stringify({ synthMs, maxRssKb: process.resourceUsage().maxRSS, digest: module.digest })}\n`,
);
