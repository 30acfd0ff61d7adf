import { App } from 'cdktf';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { AWS_PROVIDER_CONSTRAINT, SutureModuleStack, TERRAFORM_CONSTRAINT } from './module-stack';

/** What {@link synthesizeModule} wrote. */
export interface SynthesizedModule {
  readonly dir: string;
  /** Files of the module, relative, sorted. */
  readonly files: readonly string[];
  /** SHA-256 over every file's relative path and bytes: equal for equal modules. */
  readonly digest: string;
}

type Json = Record<string, unknown>;

const STACK_ID = 'module';

/** Drops cdktf's `//` metadata (construct paths, versions) everywhere: a module carries none. */
function withoutMetadata(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutMetadata);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value as Json)
      .filter(([key]) => key !== '//')
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, inner]) => [key, withoutMetadata(inner)]),
  );
}

function writeJson(file: string, value: unknown): void {
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

/** Every file under `dir`, relative and `/`-separated, sorted. */
export function listModuleFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split(sep).join('/'))
    .sort();
}

/** SHA-256 over the relative path and bytes of every file of `dir`. */
export function digestDirectory(dir: string): string {
  const hash = createHash('sha256');
  for (const file of listModuleFiles(dir)) {
    hash.update(`${file}\0`);
    hash.update(readFileSync(join(dir, file)));
    hash.update('\0');
  }
  return hash.digest('hex');
}

/**
 * Synthesises {@link SutureModuleStack} and writes it to `outDir` as a clean child module:
 * `versions.tf.json` (required_version, required_providers aws with a version constraint; no
 * provider configuration, no backend), `variables.tf.json`, `main.tf.json` (data, locals,
 * resources), `outputs.tf.json` and the assets, referenced through `${path.module}`. Keys are
 * sorted and cdktf's metadata is dropped, so the same sources give the same bytes.
 */
export function synthesizeModule(outDir: string): SynthesizedModule {
  const work = mkdtempSync(join(tmpdir(), 'suture-module-'));
  try {
    const app = new App({ outdir: work, stackTraces: false });
    new SutureModuleStack(app, STACK_ID);
    app.synth();
    const stackDir = join(work, 'stacks', STACK_ID);
    const config = JSON.parse(readFileSync(join(stackDir, 'cdk.tf.json'), 'utf8')) as Json;

    const unexpected = Object.keys(config).filter(
      (key) =>
        !['//', 'terraform', 'provider', 'variable', 'output', 'locals', 'data', 'resource'].includes(key),
    );
    if (unexpected.length > 0)
      throw new Error(`unexpected top-level blocks in the module: ${unexpected.join(', ')}`);

    rmSync(outDir, { recursive: true, force: true });
    mkdirSync(outDir, { recursive: true });
    writeJson(join(outDir, 'versions.tf.json'), {
      terraform: {
        required_version: TERRAFORM_CONSTRAINT,
        required_providers: { aws: { source: 'hashicorp/aws', version: AWS_PROVIDER_CONSTRAINT } },
      },
    });
    writeJson(join(outDir, 'variables.tf.json'), withoutMetadata({ variable: config.variable }));
    writeJson(
      join(outDir, 'main.tf.json'),
      withoutMetadata({ data: config.data, locals: config.locals, resource: config.resource }),
    );
    writeJson(join(outDir, 'outputs.tf.json'), withoutMetadata({ output: config.output }));
    const assets = join(stackDir, 'assets');
    if (existsSync(assets)) cpSync(assets, join(outDir, 'assets'), { recursive: true });
    return { dir: outDir, files: listModuleFiles(outDir), digest: digestDirectory(outDir) };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
