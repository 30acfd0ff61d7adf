import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { z } from 'zod';
import { PolicyBundleError } from './errors';

/** Files of a bundle archive keyed by their path without the leading slash. */
export type BundleFiles = ReadonlyMap<string, Buffer>;

/** The parts of a bundle the gate uses. */
export interface PolicyBundle {
  readonly files: BundleFiles;
  readonly wasm: Buffer;
  readonly data: unknown;
  readonly manifest: BundleManifest;
  /** SHA-256 (hex) of the archive as read. */
  readonly sha256: string;
}

const ManifestSchema = z.looseObject({
  revision: z.string().min(1, 'manifest revision is empty'),
  roots: z.array(z.string()).optional(),
  rego_version: z.number().optional(),
  wasm: z
    .array(z.looseObject({ entrypoint: z.string(), module: z.string() }))
    .min(1, 'manifest lists no wasm module'),
});

/** The `.manifest` of a wasm bundle. */
export type BundleManifest = z.infer<typeof ManifestSchema>;

/** Largest archive accepted once gunzipped; policy bundles are kilobytes to a few MiB. */
const MAX_ARCHIVE_BYTES = 64 * 1024 * 1024;

const BLOCK = 512;

function cString(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? field.length : end).toString('utf8');
}

function octal(block: Buffer, start: number, length: number, what: string): number {
  if ((block[start]! & 0x80) !== 0) throw new PolicyBundleError(`bundle tar header has a base-256 ${what}`);
  const text = cString(block, start, length).trim();
  if (!/^[0-7]*$/.test(text)) throw new PolicyBundleError(`bundle tar header has a malformed ${what}`);
  return text === '' ? 0 : parseInt(text, 8);
}

function checksumMatches(header: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i += 1) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
  return sum === octal(header, 148, 8, 'checksum');
}

/** `path` from a PAX extended header (records of the form "<len> key=value\n"). */
function paxPath(body: Buffer): string | undefined {
  let offset = 0;
  let path: string | undefined;
  while (offset < body.length) {
    const space = body.indexOf(0x20, offset);
    const length = Number(body.subarray(offset, space).toString('ascii'));
    if (space === -1 || !Number.isInteger(length) || length <= 0) {
      throw new PolicyBundleError('bundle tar has a malformed PAX header');
    }
    const record = body.subarray(space + 1, offset + length - 1).toString('utf8');
    const equals = record.indexOf('=');
    if (record.slice(0, equals) === 'path') path = record.slice(equals + 1);
    offset += length;
  }
  return path;
}

/**
 * Reads every regular file of a gzipped (ustar/PAX/GNU) tar archive into memory, synchronously.
 * Written here rather than streamed through a tar library because a cold gate load is on the
 * Lambda's init path: streaming the bundle through tar-stream cost ~25 ms of a 50 ms budget,
 * gunzip plus this loop costs ~2 ms. Headers are checksum-verified; anything unexpected is a
 * {@link PolicyBundleError}.
 */
export function readTarGz(archive: Buffer): Map<string, Buffer> {
  let tar: Buffer;
  try {
    tar = gunzipSync(archive, { maxOutputLength: MAX_ARCHIVE_BYTES });
  } catch (error) {
    throw new PolicyBundleError(`bundle is not a readable .tar.gz archive: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const files = new Map<string, Buffer>();
  let offset = 0;
  let pendingName: string | undefined;
  while (offset + BLOCK <= tar.length) {
    const header = tar.subarray(offset, offset + BLOCK);
    if (header.every((byte) => byte === 0)) return files;
    if (!checksumMatches(header))
      throw new PolicyBundleError(`bundle tar header at byte ${offset} is corrupt`);
    const size = octal(header, 124, 12, 'size');
    const type = header[156] === 0 ? '0' : String.fromCharCode(header[156]!);
    const start = offset + BLOCK;
    if (start + size > tar.length) throw new PolicyBundleError('bundle tar archive is truncated');
    const body = tar.subarray(start, start + size);
    offset = start + Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'x') {
      pendingName = paxPath(body) ?? pendingName;
      continue;
    }
    if (type === 'L') {
      pendingName = cString(body, 0, body.length);
      continue;
    }
    if (type === 'g') continue;
    const prefix = header.subarray(257, 262).toString('ascii') === 'ustar' ? cString(header, 345, 155) : '';
    const rawName =
      pendingName ?? (prefix ? `${prefix}/${cString(header, 0, 100)}` : cString(header, 0, 100));
    pendingName = undefined;
    if (type !== '0' && type !== '7') continue; // directories, links and devices carry no policy
    const name = rawName.replace(/^(\.?\/)+/, '');
    if (files.has(name)) throw new PolicyBundleError(`bundle contains ${name} twice`);
    files.set(name, Buffer.from(body));
  }
  throw new PolicyBundleError('bundle tar archive ends without its end-of-archive marker');
}

function requireFile(files: BundleFiles, name: string): Buffer {
  const file = files.get(name);
  if (!file) throw new PolicyBundleError(`bundle has no ${name}`);
  return file;
}

function parseJson(name: string, bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new PolicyBundleError(`bundle file ${name} is not valid JSON`, { cause: error });
  }
}

/** Parses a wasm bundle archive: manifest, the compiled policy and its data. */
export function parseBundle(archive: Buffer): PolicyBundle {
  const files = readTarGz(archive);
  const manifestResult = ManifestSchema.safeParse(parseJson('.manifest', requireFile(files, '.manifest')));
  if (!manifestResult.success) {
    const issues = manifestResult.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new PolicyBundleError(`bundle .manifest is invalid: ${issues.join('; ')}`);
  }
  const manifest = manifestResult.data;
  const module = manifest.wasm[0]!.module.replace(/^\/+/, '');
  return {
    files,
    wasm: requireFile(files, module),
    data: parseJson('data.json', requireFile(files, 'data.json')),
    manifest,
    sha256: createHash('sha256').update(archive).digest('hex'),
  };
}
