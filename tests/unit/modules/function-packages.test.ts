import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultBundlePaths } from '../../../cli/policy/build';
import {
  bundleFunctions,
  MissingFunctionSourceError,
  POLICY_BUNDLE_ENTRY,
} from '../../../modules/functions/bundle';
import {
  LOOP_FUNCTION_NAMES,
  LOOP_FUNCTIONS,
  type LoopFunctionName,
} from '../../../modules/functions/catalog';
import { deterministicZip } from '../../../modules/functions/zip';

/** Lists a zip with Python's zipfile (an independent reader): name, size, date, mode, CRC check. */
function inspectZip(file: string): { name: string; size: number; date: number[]; mode: number }[] {
  const script = [
    'import json, sys, zipfile',
    'z = zipfile.ZipFile(sys.argv[1])',
    'assert z.testzip() is None',
    'print(json.dumps([{"name": i.filename, "size": i.file_size, "date": list(i.date_time), "mode": i.external_attr >> 16} for i in z.infolist()]))',
  ].join('\n');
  return JSON.parse(execFileSync('python3', ['-c', script, file], { encoding: 'utf8' }));
}

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
/** Functions whose source exists today (others are being written in parallel). */
const present = LOOP_FUNCTION_NAMES.filter((name) => existsSync(join('functions', name, 'index.ts')));

describe('deterministicZip', () => {
  it('writes the same bytes for the same entries in any order, readable by another zip reader', () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'zip-'));
    const entries = [
      { name: 'index.js', data: Buffer.from('exports.handler = async () => 1;\n'.repeat(50)) },
      { name: 'policy/bundle.tar.gz', data: Buffer.from([0x1f, 0x8b, 1, 2, 3]) },
    ];

    // Act
    const a = deterministicZip(entries);
    const b = deterministicZip([...entries].reverse());
    const file = join(dir, 'a.zip');
    writeFileSync(file, a);

    // Assess
    expect(a.equals(b)).toBe(true);
    expect(inspectZip(file)).toEqual([
      { name: 'index.js', size: entries[0]!.data.length, date: [1980, 1, 1, 0, 0, 0], mode: 0o100644 },
      { name: 'policy/bundle.tar.gz', size: 5, date: [1980, 1, 1, 0, 0, 0], mode: 0o100644 },
    ]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses unsafe or duplicate names', () => {
    expect(() => deterministicZip([{ name: '../x', data: Buffer.alloc(0) }])).toThrow(/relative/);
    expect(() => deterministicZip([{ name: '/x', data: Buffer.alloc(0) }])).toThrow(/relative/);
    const twice = { name: 'a', data: Buffer.alloc(1) };
    expect(() => deterministicZip([twice, twice])).toThrow(/duplicate/);
  });
});

describe('bundleFunctions', () => {
  const policyBundleFile = defaultBundlePaths().bundleFile;
  let outDir: string;

  beforeAll(() => {
    outDir = mkdtempSync(join(tmpdir(), 'functions-'));
  });

  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it('bundles every function that exists into a zip with index.js, the same bytes on a rebuild', () => {
    // Act
    const first = bundleFunctions({ functions: present, policyBundleFile, outDir });
    const firstHashes = [...first.values()].map((fn) => sha256(fn.zipFile));
    rmSync(join(outDir, `${present[0]}.inputs.json`));
    const rebuilt = bundleFunctions({ functions: present, policyBundleFile, outDir });

    // Assess
    expect([...first.keys()]).toEqual(present);
    expect([...first.values()].every((fn) => !fn.fromCache)).toBe(true);
    expect(rebuilt.get(present[0]!)?.fromCache).toBe(false);
    expect([...rebuilt.values()].slice(1).every((fn) => fn.fromCache)).toBe(true);
    expect([...rebuilt.values()].map((fn) => sha256(fn.zipFile))).toEqual(firstHashes);
    for (const fn of first.values()) {
      const names = inspectZip(fn.zipFile).map((entry) => entry.name);
      expect(names).toEqual(
        LOOP_FUNCTIONS[fn.name].policyBundle ? ['index.js', POLICY_BUNDLE_ENTRY] : ['index.js'],
      );
    }
  });

  it('ships the policy bundle byte for byte beside the policy gate handler', () => {
    const gate = bundleFunctions({ functions: ['policy-gate'], policyBundleFile, outDir }).get(
      'policy-gate',
    )!;
    const script = `import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read("${POLICY_BUNDLE_ENTRY}"))`;
    const shipped = execFileSync('python3', ['-c', script, gate.zipFile]);
    expect(shipped.equals(readFileSync(policyBundleFile))).toBe(true);
  });

  it('runs the bundled handler module under Node (CommonJS, exports handler)', () => {
    const triage = bundleFunctions({ functions: ['triage'], policyBundleFile, outDir }).get('triage')!;
    const dir = mkdtempSync(join(tmpdir(), 'unzipped-'));
    execFileSync('python3', [
      '-c',
      'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])',
      triage.zipFile,
      dir,
    ]);
    const exported = execFileSync(
      'node',
      ['-e', `console.log(typeof require(${JSON.stringify(join(dir, 'index.js'))}).handler)`],
      {
        encoding: 'utf8',
        env: { ...process.env, AWS_REGION: 'us-west-2' },
      },
    );
    expect(exported.trim()).toBe('function');
    rmSync(dir, { recursive: true, force: true });
  });

  it('names a missing handler instead of bundling half a loop', () => {
    expect(() =>
      bundleFunctions({ functions: ['nope' as LoopFunctionName], policyBundleFile, outDir }),
    ).toThrow(MissingFunctionSourceError);
    expect(() => bundleFunctions({ functions: ['policy-gate'], outDir })).toThrow(
      /policyBundleFile is required/,
    );
  });
});
