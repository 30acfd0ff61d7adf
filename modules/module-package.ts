import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { extract, pack } from 'tar-stream';
import { listModuleFiles } from './module-synth';

/** Name of the checksum file inside the archive (`sha256sum -c SHA256SUMS` verifies it). */
export const CHECKSUM_FILE = 'SHA256SUMS';
/** Every entry's modification time: 1980-01-01T00:00:00Z (what zip and reproducible builds use). */
export const ENTRY_MTIME = new Date(Date.UTC(1980, 0, 1));
const FILE_MODE = 0o644;

/** What {@link packageModule} wrote. */
export interface ModulePackage {
  /** The `.tar.gz` archive. */
  readonly file: string;
  /** SHA-256 (hex) of the archive bytes. */
  readonly sha256: string;
  /** Paths inside the archive, in archive order. */
  readonly entries: readonly string[];
}

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** `SHA256SUMS` of `files` (relative paths, sorted) under `dir`, in `sha256sum` format. */
export function checksums(dir: string, files: readonly string[]): string {
  return files.map((file) => `${sha256(readFileSync(join(dir, file)))}  ${file}\n`).join('');
}

/**
 * Packs a synthesised module folder into a reproducible `.tar.gz`: the module's files at the
 * archive root (what Terraform's `source = "https://…/x.tar.gz"` expects) plus `SHA256SUMS`,
 * sorted by path, each a regular file with mode 0644, uid/gid 0, no owner names and the same
 * fixed mtime, gzip at level 9 with no name and a zero timestamp. The bytes depend only on
 * the files' paths and contents.
 */
export async function packageModule(moduleDir: string, outFile: string): Promise<ModulePackage> {
  const files = listModuleFiles(moduleDir).filter((file) => file !== CHECKSUM_FILE);
  if (!files.some((file) => file.endsWith('.tf.json')))
    throw new Error(`${moduleDir} holds no *.tf.json: synthesise the module first`);
  const contents = new Map<string, Buffer>(files.map((file) => [file, readFileSync(join(moduleDir, file))]));
  contents.set(CHECKSUM_FILE, Buffer.from(checksums(moduleDir, files)));
  const entries = [...contents.keys()].sort();

  const tar = pack();
  const chunks: Buffer[] = [];
  tar.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
  const finished = new Promise<void>((resolve, reject) => {
    tar.on('end', resolve);
    tar.on('error', reject);
  });
  for (const name of entries) {
    const data = contents.get(name) as Buffer;
    await new Promise<void>((resolve, reject) =>
      tar.entry(
        {
          name,
          size: data.length,
          mode: FILE_MODE,
          mtime: ENTRY_MTIME,
          uid: 0,
          gid: 0,
          uname: '',
          gname: '',
          type: 'file',
        },
        data,
        (error) => (error ? reject(error) : resolve()),
      ),
    );
  }
  tar.finalize();
  await finished;
  const archive = gzipSync(Buffer.concat(chunks), { level: 9 });

  mkdirSync(dirname(outFile), { recursive: true });
  const temp = `${outFile}.${process.pid}.tmp`;
  writeFileSync(temp, archive);
  renameSync(temp, outFile);
  return { file: outFile, sha256: sha256(archive), entries };
}

/** One file of a module archive. */
export interface ArchiveEntry {
  readonly name: string;
  readonly mode: number;
  readonly mtime: Date;
  readonly data: Buffer;
}

/** The regular files of a `.tar.gz`, in archive order. */
export async function readModuleArchive(file: string): Promise<ArchiveEntry[]> {
  const entries: ArchiveEntry[] = [];
  const tar = extract();
  const done = new Promise<void>((resolve, reject) => {
    tar.on('finish', resolve);
    tar.on('error', reject);
  });
  tar.on('entry', (header, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
    stream.on('end', () => {
      if (header.type === 'file') {
        entries.push({
          name: header.name,
          mode: header.mode ?? 0,
          mtime: header.mtime ?? new Date(0),
          data: Buffer.concat(chunks),
        });
      }
      next();
    });
    stream.resume();
  });
  tar.end(gunzipSync(readFileSync(file)));
  await done;
  return entries;
}

/**
 * Unpacks a module archive into `dir` (emptied first), refusing paths that leave it, and checks
 * every file against the archive's `SHA256SUMS`, as a consumer would after downloading it.
 */
export async function unpackModuleArchive(file: string, dir: string): Promise<string[]> {
  const entries = await readModuleArchive(file);
  const sums = entries.find((entry) => entry.name === CHECKSUM_FILE);
  if (!sums) throw new Error(`${file} has no ${CHECKSUM_FILE}`);
  const expected = new Map(
    sums.data
      .toString('utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [digest, name] = line.split('  ') as [string, string];
        return [name, digest];
      }),
  );
  rmSync(dir, { recursive: true, force: true });
  for (const entry of entries) {
    if (entry.name.startsWith('/') || entry.name.split('/').includes('..'))
      throw new Error(`${file}: entry ${entry.name} leaves the module folder`);
    if (entry.name !== CHECKSUM_FILE && expected.get(entry.name) !== sha256(entry.data))
      throw new Error(`${file}: ${entry.name} does not match ${CHECKSUM_FILE}`);
    const target = join(dir, entry.name);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, entry.data, { mode: entry.mode });
  }
  return entries.map((entry) => entry.name);
}
