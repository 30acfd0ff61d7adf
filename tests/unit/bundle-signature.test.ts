import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { buildPolicyBundle, defaultBundlePaths } from '../../cli/policy/build';
import {
  PolicyBundleError,
  PolicyBundleSignatureError,
  PolicyGate,
} from '../../functions/commons/policy-gate';
import { readTarGz } from '../../functions/commons/policy-gate/bundle';
import { transientRetryInput } from '../helpers/policy';

async function repack(files: Map<string, Buffer>): Promise<Buffer> {
  const archive = pack();
  const chunks: Buffer[] = [];
  archive.on('data', (chunk: unknown) => {
    chunks.push(chunk as Buffer);
  });
  const finished = new Promise<void>((resolve) => {
    archive.on('end', () => resolve());
  });
  for (const [name, bytes] of files) archive.entry({ name: `/${name}` }, bytes);
  archive.finalize();
  await finished;
  return gzipSync(Buffer.concat(chunks));
}

describe('bundle signatures', () => {
  let dir: string;
  let signedBundle: string;
  let publicKey: string;
  let otherPublicKey: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'suture-signing-'));
    const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
    publicKey = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    otherPublicKey = other.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const privateKeyFile = join(dir, 'private.pem');
    await writeFile(privateKeyFile, keys.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    signedBundle = join(dir, 'signed.tar.gz');
    await buildPolicyBundle({
      policyDir: defaultBundlePaths().policyDir,
      outFile: signedBundle,
      signingKey: privateKeyFile,
      keyId: 'release-2026',
    });
  });

  it('loads a bundle signed with the configured RSA key and decides with it', async () => {
    // Act
    const gate = await PolicyGate.load({
      bundle: signedBundle,
      verification: { key: publicKey, keyId: 'release-2026' },
    });

    // Assess
    expect(gate.signed).toBe(true);
    expect(gate.decide(transientRetryInput()).allow).toBe(true);
  });

  it('refuses a bundle signed by another key', async () => {
    // Act
    const loading = PolicyGate.load({ bundle: signedBundle, verification: { key: otherPublicKey } });

    // Assess
    await expect(loading).rejects.toThrow(PolicyBundleSignatureError);
    await expect(loading).rejects.toThrow('does not verify');
  });

  it('refuses a signature made for another key id', async () => {
    // Act
    const loading = PolicyGate.load({
      bundle: signedBundle,
      verification: { key: publicKey, keyId: 'staging' },
    });

    // Assess
    await expect(loading).rejects.toThrow('signed with key id release-2026, expected staging');
  });

  it.each([
    [
      'data.json',
      (text: string) =>
        text.replace('"auto"', '"auto" ').replace('"fingerprint_24h":3', '"fingerprint_24h":300'),
    ],
    ['policy.wasm', (text: string) => text],
  ])('refuses a bundle whose %s changed after signing', async (name, edit) => {
    // Prepare
    const files = readTarGz(await readFile(signedBundle));
    const original = files.get(name)!;
    files.set(
      name,
      name === 'policy.wasm'
        ? Buffer.concat([original, Buffer.from([0])])
        : Buffer.from(edit(original.toString('utf8'))),
    );
    const tampered = join(dir, `tampered-${name}.tar.gz`);
    await writeFile(tampered, await repack(files));

    // Act
    const loading = PolicyGate.load({ bundle: tampered, verification: { key: publicKey } });

    // Assess
    await expect(loading).rejects.toThrow(`file ${name} does not match its signed digest`);
  });

  it('refuses a file added after signing', async () => {
    // Prepare
    const files = readTarGz(await readFile(signedBundle));
    files.set('suture/remediation/extra.rego', Buffer.from('package suture.remediation\n'));
    const tampered = join(dir, 'extra.tar.gz');
    await writeFile(tampered, await repack(files));

    // Act
    const loading = PolicyGate.load({ bundle: tampered, verification: { key: publicKey } });

    // Assess
    await expect(loading).rejects.toThrow(
      'file suture/remediation/extra.rego is not covered by the bundle signature',
    );
  });

  it('accepts a data.json re-serialised with other key order and spacing (OPA hashes JSON structurally)', async () => {
    // Prepare
    const files = readTarGz(await readFile(signedBundle));
    const data = JSON.parse(files.get('data.json')!.toString('utf8')) as Record<string, unknown>;
    const reordered = Object.fromEntries(Object.entries(data).reverse());
    files.set('data.json', Buffer.from(JSON.stringify(reordered, null, 4)));
    const rewritten = join(dir, 'rewritten.tar.gz');
    await writeFile(rewritten, await repack(files));

    // Act
    const gate = await PolicyGate.load({ bundle: rewritten, verification: { key: publicKey } });

    // Assess
    expect(gate.signed).toBe(true);
  });

  it('refuses an unsigned bundle unless unsigned bundles are explicitly allowed', async () => {
    // Prepare
    const unsigned = defaultBundlePaths().bundleFile;

    // Act and assess
    await expect(PolicyGate.load({ bundle: unsigned, verification: { key: publicKey } })).rejects.toThrow(
      'bundle is not signed',
    );
    const allowed = await PolicyGate.load({ bundle: unsigned, verification: { allowUnsigned: true } });
    expect(allowed.signed).toBe(false);
  });

  it('refuses a signed bundle when no verification key is configured, even with unsigned allowed', async () => {
    // Act
    const loading = PolicyGate.load({ bundle: signedBundle, verification: { allowUnsigned: true } });

    // Assess
    await expect(loading).rejects.toThrow('bundle is signed but no verification key was configured');
  });

  it('verifies an HMAC-signed bundle with the shared secret only', async () => {
    // Prepare
    const out = join(dir, 'hmac.tar.gz');
    await buildPolicyBundle({
      policyDir: defaultBundlePaths().policyDir,
      outFile: out,
      signingKey: 'a-long-shared-secret-for-tests-only',
      signingAlg: 'HS256',
    });

    // Act
    const gate = await PolicyGate.load({
      bundle: out,
      verification: { key: 'a-long-shared-secret-for-tests-only' },
    });
    const wrong = PolicyGate.load({
      bundle: out,
      verification: { key: 'another-secret-entirely-for-tests' },
    });

    // Assess
    expect(gate.signed).toBe(true);
    await expect(wrong).rejects.toThrow(PolicyBundleSignatureError);
  });

  it('refuses a bundle whose archive hash differs from the pinned one', async () => {
    // Act
    const loading = PolicyGate.load({
      bundle: signedBundle,
      verification: { key: publicKey },
      expectedSha256: '0'.repeat(64),
    });

    // Assess
    await expect(loading).rejects.toThrow(PolicyBundleError);
    await expect(loading).rejects.toThrow('does not match the pinned');
  });

  it('refuses an archive that is not a bundle, naming the problem', async () => {
    // Prepare
    const junk = join(dir, 'junk.tar.gz');
    await writeFile(junk, 'not a tarball');

    // Act
    const loading = PolicyGate.load({ bundle: junk, verification: { allowUnsigned: true } });

    // Assess
    await expect(loading).rejects.toThrow('bundle is not a readable .tar.gz archive');
  });
});
