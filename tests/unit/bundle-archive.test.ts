import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { PolicyBundleError } from '../../functions/commons/policy-gate';
import { readTarGz } from '../../functions/commons/policy-gate/bundle';

/** Builds a .tar.gz with the system tar in the given format. */
function systemTar(format: 'gnu' | 'posix', files: Record<string, string>): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'suture-tar-'));
  const root = join(dir, 'root');
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(root, name, '..'), { recursive: true });
    writeFileSync(join(root, name), content);
  }
  const out = join(dir, 'bundle.tar.gz');
  execFileSync('tar', [`--format=${format}`, '-czf', out, '-C', root, '.']);
  return readFileSync(out);
}

describe('readTarGz', () => {
  const longName = `${'deeply/nested/'.repeat(12)}policy.rego`;

  it.each(['gnu', 'posix'] as const)('reads regular files, long names included, from %s tar', (format) => {
    // Prepare
    const archive = systemTar(format, { 'data.json': '{"a":1}', [longName]: 'package x\n' });

    // Act
    const files = readTarGz(archive);

    // Assess
    expect([...files.keys()].sort()).toEqual(['data.json', longName]);
    expect(files.get('data.json')!.toString()).toBe('{"a":1}');
    expect(files.get(longName)!.toString()).toBe('package x\n');
  });

  it('refuses an archive whose header checksum does not match', () => {
    // Prepare
    const tar = Buffer.from(gunzipSync(systemTar('gnu', { 'data.json': '{}' })));
    tar[0] = tar[0]! ^ 0x01;

    // Act and assess
    expect(() => readTarGz(gzipSync(tar))).toThrow(/tar header at byte 0 is corrupt/);
  });

  it('refuses a truncated archive', () => {
    // Prepare
    const tar = gunzipSync(systemTar('gnu', { 'data.json': 'x'.repeat(2000) }));

    // Act and assess
    expect(() => readTarGz(gzipSync(tar.subarray(0, 1024)))).toThrow(PolicyBundleError);
  });

  it('refuses bytes that are not gzip', () => {
    expect(() => readTarGz(Buffer.from('plain text'))).toThrow('bundle is not a readable .tar.gz archive');
  });
});
