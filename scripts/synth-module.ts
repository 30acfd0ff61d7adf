/**
 * `npm run synth:module`: writes the loop as a plain Terraform module to `dist/module/` (or
 * the folder given as the first argument) and prints its files and digest. Two runs on the same
 * sources print the same digest.
 */
import { join } from 'node:path';
import { repoRoot } from '../cli/paths';
import { synthesizeModule } from '../modules/module-synth';

const outDir = process.argv[2] ?? join(repoRoot(), 'dist', 'module');
const started = performance.now();
const module = synthesizeModule(outDir);
const seconds = ((performance.now() - started) / 1000).toFixed(1);
process.stdout.write(`${module.dir}: ${module.files.length} files, sha256 ${module.digest} (${seconds} s)\n`);
for (const file of module.files) process.stdout.write(`  ${file}\n`);
