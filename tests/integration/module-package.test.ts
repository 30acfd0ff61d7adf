import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import {
  CHECKSUM_FILE,
  ENTRY_MTIME,
  packageModule,
  readModuleArchive,
  unpackModuleArchive,
} from '../../modules/module-package';
import { listModuleFiles, synthesizeModule } from '../../modules/module-synth';

describe('the distributable module archive', () => {
  let dir: string;
  let moduleDir: string;
  let first: Awaited<ReturnType<typeof packageModule>>;
  let second: Awaited<ReturnType<typeof packageModule>>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'module-package-'));
    // Two synths, two packings: equal sources must give equal archive bytes.
    moduleDir = synthesizeModule(join(dir, 'a')).dir;
    first = await packageModule(moduleDir, join(dir, 'first.tar.gz'));
    const other = synthesizeModule(join(dir, 'b')).dir;
    second = await packageModule(other, join(dir, 'second.tar.gz'));
  }, 120_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is byte-for-byte identical on two builds of the same sources', () => {
    expect(readFileSync(second.file).equals(readFileSync(first.file))).toBe(true);
    expect(second.sha256).toBe(first.sha256);
    expect(first.sha256).toBe(createHash('sha256').update(readFileSync(first.file)).digest('hex'));
  });

  it('holds every file of the module and SHA256SUMS at its root, sorted, with fixed metadata', async () => {
    // Act
    const entries = await readModuleArchive(first.file);

    // Assess
    const names = entries.map((entry) => entry.name);
    expect(names).toEqual([...listModuleFiles(moduleDir), CHECKSUM_FILE].sort());
    expect(names).toEqual(expect.arrayContaining(['main.tf.json', 'variables.tf.json', 'versions.tf.json']));
    expect(names.filter((name) => name.endsWith('.zip'))).toHaveLength(9);
    for (const entry of entries) {
      expect({ name: entry.name, mode: entry.mode, mtime: entry.mtime.getTime() }).toEqual({
        name: entry.name,
        mode: 0o644,
        mtime: ENTRY_MTIME.getTime(),
      });
      if (entry.name !== CHECKSUM_FILE)
        expect(entry.data.equals(readFileSync(join(moduleDir, entry.name)))).toBe(true);
    }
  });

  it('unpacks to a folder that sha256sum -c SHA256SUMS verifies', async () => {
    // Act
    const target = join(dir, 'unpacked');
    await unpackModuleArchive(first.file, target);
    const check = spawnSync('sha256sum', ['--strict', '-c', CHECKSUM_FILE], {
      cwd: target,
      encoding: 'utf8',
    });

    // Assess
    expect(check.status).toBe(0);
    expect(check.stdout.trim().split('\n')).toHaveLength(listModuleFiles(moduleDir).length);
  });

  it('refuses to unpack an archive whose files do not match its SHA256SUMS', async () => {
    // Prepare: main.tf.json changed after its checksum was taken.
    const tar = pack();
    const chunks: Buffer[] = [];
    tar.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
    tar.entry({ name: CHECKSUM_FILE }, `${'0'.repeat(64)}  main.tf.json\n`);
    tar.entry({ name: 'main.tf.json' }, '{}\n');
    tar.finalize();
    await new Promise<void>((resolve) => tar.on('end', () => resolve()));
    const tampered = join(dir, 'tampered.tar.gz');
    writeFileSync(tampered, gzipSync(Buffer.concat(chunks)));

    // Act
    const unpack = unpackModuleArchive(tampered, join(dir, 'tampered'));

    // Assess
    await expect(unpack).rejects.toThrow(/main\.tf\.json does not match SHA256SUMS/);
  });
});
