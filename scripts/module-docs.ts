/**
 * Generates the inputs/outputs table of the Terraform module from its variables and outputs
 * into README.md and docs/module.md (between `<!-- module-docs:start -->` and `<!-- module-docs:end -->`).
 * `--check` changes nothing and exits 1 when the file is stale (CI).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../cli/paths';
import { updatedModuleDocs } from '../modules/module-docs';

async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  for (const file of [join(repoRoot(), 'README.md'), join(repoRoot(), 'docs', 'module.md')]) {
    const current = readFileSync(file, 'utf8');
    const wanted = await updatedModuleDocs(file, current);
    if (current === wanted) {
      process.stdout.write(`${file} is up to date\n`);
    } else if (check) {
      process.stderr.write(`${file} is stale: run npx tsx scripts/module-docs.ts\n`);
      process.exitCode = 1;
    } else {
      writeFileSync(file, wanted);
      process.stdout.write(`updated ${file}\n`);
    }
  }
}

void main();
