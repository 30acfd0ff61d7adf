/**
 * `npm run package:module`: synthesises the Terraform module and packs it, with its assets and a
 * SHA256SUMS file, into `build/suture-module-<version>.tar.gz` (version from package.json; the
 * release tag is `v<version>`), then unpacks that archive into `build/suture-module/` after
 * checking it against its SHA256SUMS: the folder the examples use as their module source, i.e.
 * exactly what a consumer downloading the release gets. Two runs on the same sources write the
 * same bytes; the archive's SHA-256 is printed and written beside it (`.sha256`).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { repoRoot } from '../cli/paths';
import { packageModule, unpackModuleArchive } from '../modules/module-package';
import { synthesizeModule } from '../modules/module-synth';

async function main(): Promise<void> {
  const root = repoRoot();
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version))
    throw new Error(`package.json version "${version}" is not a semantic version`);
  const outFile = join(root, 'build', `suture-module-${version}.tar.gz`);
  const work = mkdtempSync(join(tmpdir(), 'suture-package-'));
  try {
    const module = synthesizeModule(join(work, 'module'));
    const packed = await packageModule(module.dir, outFile);
    writeFileSync(`${outFile}.sha256`, `${packed.sha256}  ${basename(outFile)}\n`);
    const unpacked = join(root, 'build', 'suture-module');
    await unpackModuleArchive(outFile, unpacked);
    process.stdout.write(`${outFile}: ${packed.entries.length} files, sha256 ${packed.sha256}\n`);
    process.stdout.write(`unpacked and checked against SHA256SUMS into ${unpacked}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`package-module: ${(error as Error).message}\n`);
  process.exitCode = 1;
});
