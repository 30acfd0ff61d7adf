import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../../tooling/paths';

const root = repoRoot();
const run = promisify(execFile);

interface LintMessage {
  readonly ruleId: string | null;
  readonly message: string;
}

/** Lints `source` as if it were the file at `path` (nothing is written), with the repo's config. */
async function restrictedImports(path: string, source: string): Promise<string[]> {
  const child = run(
    process.execPath,
    [
      join(root, 'node_modules', 'eslint', 'bin', 'eslint.js'),
      '--format',
      'json',
      '--stdin',
      '--stdin-filename',
      join(root, path),
    ],
    { cwd: root },
  );
  child.child.stdin!.end(source);
  const { stdout } = await child.catch((error: { stdout: string }) => ({ stdout: error.stdout }));
  const [result] = JSON.parse(stdout) as { messages: LintMessage[] }[];
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

function tsFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => relative(root, join(entry.parentPath, entry.name)).split(sep).join('/'));
}

describe('the import rules of docs/architecture.md (eslint.config.mjs)', () => {
  it('covers every file of functions/: each sits at a folder depth the rules are written for', () => {
    // Act
    const depths = new Set(tsFiles('functions').map((path) => path.split('/').length));

    // Assess: functions/<folder>/x.ts and functions/commons/<part>/x.ts only.
    expect([...depths].sort()).toEqual([3, 4]);
  });

  it('fails a handler that imports another handler, the CLI or the simulator, and passes commons', async () => {
    // Act
    const [handler, commons, allowed] = await Promise.all([
      restrictedImports(
        'functions/notify/layers-probe.ts',
        [
          "export { ApprovalStore } from '../approval/index';",
          "export { repoRoot } from '../../cli/paths';",
          "export { startMoto } from '../../local/moto/server';",
          "export { synthesizeModule } from '../../modules/module-synth';",
          '',
        ].join('\n'),
      ),
      restrictedImports(
        'functions/commons/workflow/layers-probe.ts',
        [
          "export { handler } from '../../triage/index';",
          "export { opaCommand } from '../../../tooling/policy-build';",
          '',
        ].join('\n'),
      ),
      restrictedImports(
        'functions/notify/layers-probe.ts',
        [
          "export { ApprovalStore } from '../commons/approval/store';",
          "export { ClassificationSchema } from '../commons/classify/schema';",
          "export { default as data } from '../../policies/suture/config/data.json';",
          "export { z } from 'zod';",
          '',
        ].join('\n'),
      ),
    ]);

    // Assess
    expect(handler).toHaveLength(4);
    expect(handler[0]).toMatch(/handler folder imports functions\/commons only/);
    expect(handler.slice(1).every((m) => /functions\/ is the core/.test(m))).toBe(true);
    expect(commons).toHaveLength(2);
    expect(allowed).toEqual([]);
  });

  it('fails modules/ importing cli/ or local/, and tooling/ importing modules/', async () => {
    // Act
    const [modules, tooling, allowed] = await Promise.all([
      restrictedImports(
        'modules/parts/layers-probe.ts',
        [
          "export { repoRoot } from '../../cli/paths';",
          "export { startMoto } from '../../local/moto/server';",
          '',
        ].join('\n'),
      ),
      restrictedImports(
        'tooling/layers-probe.ts',
        "export { SelfHealingLoop } from '../modules/self-healing-loop';\n",
      ),
      restrictedImports(
        'modules/parts/layers-probe.ts',
        [
          "export { repoRoot } from '../../tooling/paths';",
          "export { LOOP_FUNCTIONS } from '../functions/catalog';",
          '',
        ].join('\n'),
      ),
    ]);

    // Assess
    expect(modules).toHaveLength(2);
    expect(modules.every((m) => /modules\/ does not import cli\/, local\/ or bench\//.test(m))).toBe(true);
    expect(tooling).toEqual([expect.stringMatching(/tooling\/ sits under modules\/ and cli\//)]);
    expect(allowed).toEqual([]);
  });
});
