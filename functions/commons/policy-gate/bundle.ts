import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { extract } from 'tar-stream';
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

/** Largest archive member accepted; policy bundles are kilobytes to a few MiB. */
const MAX_MEMBER_BYTES = 64 * 1024 * 1024;

/** Reads every regular file of a gzipped tar archive into memory. */
export async function readTarGz(archive: Buffer): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const tar = extract();
  const done = new Promise<void>((resolve, reject) => {
    tar.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (data: unknown) => {
        const chunk = data as Buffer;
        size += chunk.length;
        if (size > MAX_MEMBER_BYTES) {
          stream.destroy(
            new PolicyBundleError(`bundle member ${header.name} exceeds ${MAX_MEMBER_BYTES} bytes`),
          );
          return;
        }
        chunks.push(chunk);
      });
      stream.on('error', reject);
      stream.on('end', () => {
        if (header.type === 'file') {
          const name = header.name.replace(/^\/+/, '');
          if (files.has(name)) {
            reject(new PolicyBundleError(`bundle contains ${name} twice`));
            return;
          }
          files.set(name, Buffer.concat(chunks));
        }
        next();
      });
    });
    tar.on('finish', resolve);
    tar.on('error', reject);
  });
  const gunzip = createGunzip();
  gunzip.on('error', (error) => tar.destroy(error));
  Readable.from([archive]).pipe(gunzip).pipe(tar);
  try {
    await done;
  } catch (error) {
    if (error instanceof PolicyBundleError) throw error;
    throw new PolicyBundleError(`bundle is not a readable .tar.gz archive: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return files;
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
export async function parseBundle(archive: Buffer): Promise<PolicyBundle> {
  const files = await readTarGz(archive);
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
