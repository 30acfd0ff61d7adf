import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { compactVerify, decodeProtectedHeader } from 'jose';
import { z } from 'zod';
import type { BundleFiles } from './bundle';
import { PolicyBundleSignatureError } from './errors';

/** How the gate checks a bundle's signature. */
export interface SignatureVerification {
  /** PEM public key (RSA or EC) or an HMAC secret. Absent: only unsigned bundles can load, and only when allowed. */
  readonly key?: string;
  /** JWS algorithms accepted. @default ['RS256','RS384','RS512','PS256','PS384','PS512','ES256','ES384','ES512'] for PEM keys, ['HS256','HS384','HS512'] for secrets */
  readonly algorithms?: readonly string[];
  /** Expected `keyid`; when set, a signature for another key id is refused. @default any */
  readonly keyId?: string;
  /** Expected `scope` claim. @default "" (no scope) */
  readonly scope?: string;
  /** Load a bundle that has no `.signatures.json`. Never applies to a bundle whose signature fails. @default false */
  readonly allowUnsigned?: boolean;
}

/** What the verification established. */
export interface SignatureResult {
  readonly signed: boolean;
  readonly keyId?: string;
}

const SIGNATURES_FILE = '.signatures.json';

const SignaturesFileSchema = z.object({ signatures: z.array(z.string()) });

const SignedPayloadSchema = z.looseObject({
  files: z.array(
    z.object({ name: z.string(), hash: z.string().regex(/^[0-9a-f]+$/), algorithm: z.string() }),
  ),
  keyid: z.string().optional(),
  scope: z.string().optional(),
});

const HASHES: Readonly<Record<string, string>> = {
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
  'SHA-512-256': 'sha512-256',
};

/**
 * JSON-encodes a primitive exactly as Go's encoding/json does with HTML escaping off:
 * JSON.stringify agrees except that Go also escapes U+2028 and U+2029.
 */
function encodePrimitive(value: unknown): string {
  return JSON.stringify(value)
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/**
 * Feeds a parsed JSON document to the hash in OPA's canonical form: objects with sorted
 * keys, `{k:v,…}` and `[a,…]` with no spaces. Numbers are re-encoded by JavaScript, so a
 * document whose number literals are not in their shortest form hashes differently and is
 * refused (fail closed); OPA writes data.json in that form.
 */
function hashCanonical(value: unknown, update: (text: string) => void): void {
  if (Array.isArray(value)) {
    update('[');
    value.forEach((item, index) => {
      if (index > 0) update(',');
      hashCanonical(item, update);
    });
    update(']');
  } else if (value !== null && typeof value === 'object') {
    update('{');
    Object.keys(value)
      .sort()
      .forEach((key, index) => {
        if (index > 0) update(',');
        update(encodePrimitive(key));
        update(':');
        hashCanonical((value as Record<string, unknown>)[key], update);
      });
    update('}');
  } else {
    update(encodePrimitive(value));
  }
}

/** OPA hashes data.json, YAML data and .manifest structurally; every other file by its bytes. */
function isStructured(name: string): boolean {
  const base = name.split('/').pop() ?? name;
  return base === 'data.json' || base === '.manifest' || base.endsWith('.yaml') || base.endsWith('.yml');
}

/** Hex digest of one bundle file as OPA computes it for signatures. */
export function bundleFileDigest(name: string, bytes: Buffer, algorithm: string): string {
  const nodeAlgorithm = HASHES[algorithm];
  if (!nodeAlgorithm)
    throw new PolicyBundleSignatureError(`unsupported hash algorithm ${algorithm} for ${name}`);
  const hash = createHash(nodeAlgorithm);
  if (isStructured(name)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(bytes.toString('utf8'));
    } catch (error) {
      throw new PolicyBundleSignatureError(`signed file ${name} is not valid JSON`, { cause: error });
    }
    hashCanonical(parsed, (text) => hash.update(text, 'utf8'));
  } else {
    hash.update(bytes);
  }
  return hash.digest('hex');
}

function verificationKey(key: string): KeyObject | Uint8Array {
  if (key.includes('-----BEGIN')) {
    try {
      return createPublicKey(key);
    } catch (error) {
      throw new PolicyBundleSignatureError('verification key is not a readable PEM public key', {
        cause: error,
      });
    }
  }
  return new TextEncoder().encode(key);
}

function defaultAlgorithms(key: string): string[] {
  return key.includes('-----BEGIN')
    ? ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512']
    : ['HS256', 'HS384', 'HS512'];
}

/**
 * Verifies a bundle's `.signatures.json` the way OPA does: exactly one JWT, signed by the
 * configured key, whose payload lists every file of the bundle with a matching digest
 * and no file that is missing. Throws {@link PolicyBundleSignatureError} on any mismatch.
 */
export async function verifyBundleSignature(
  files: BundleFiles,
  options: SignatureVerification,
): Promise<SignatureResult> {
  const signaturesFile = files.get(SIGNATURES_FILE);
  if (!signaturesFile) {
    if (options.allowUnsigned) return { signed: false };
    throw new PolicyBundleSignatureError(
      'bundle is not signed; build it with a signing key, or allow unsigned bundles explicitly',
    );
  }
  if (!options.key) {
    throw new PolicyBundleSignatureError('bundle is signed but no verification key was configured');
  }

  let tokens: string[];
  try {
    tokens = SignaturesFileSchema.parse(JSON.parse(signaturesFile.toString('utf8'))).signatures;
  } catch (error) {
    throw new PolicyBundleSignatureError(`${SIGNATURES_FILE} is malformed`, { cause: error });
  }
  if (tokens.length !== 1) {
    throw new PolicyBundleSignatureError(
      `${SIGNATURES_FILE} must hold exactly one JWT, found ${tokens.length}`,
    );
  }
  const token = tokens[0]!;

  let payloadBytes: Uint8Array;
  let headerKeyId: string | undefined;
  try {
    headerKeyId = decodeProtectedHeader(token).kid;
    const verified = await compactVerify(token, verificationKey(options.key), {
      algorithms: [...(options.algorithms ?? defaultAlgorithms(options.key))],
    });
    payloadBytes = verified.payload;
  } catch (error) {
    if (error instanceof PolicyBundleSignatureError) throw error;
    throw new PolicyBundleSignatureError(`bundle signature does not verify: ${(error as Error).message}`, {
      cause: error,
    });
  }

  const parsed = SignedPayloadSchema.safeParse(JSON.parse(new TextDecoder().decode(payloadBytes)));
  if (!parsed.success)
    throw new PolicyBundleSignatureError('signature payload does not list the bundle files');
  const payload = parsed.data;
  const keyId = headerKeyId ?? payload.keyid;
  if (options.keyId !== undefined && keyId !== options.keyId) {
    throw new PolicyBundleSignatureError(
      `bundle is signed with key id ${keyId ?? '(none)'}, expected ${options.keyId}`,
    );
  }
  if ((payload.scope ?? '') !== (options.scope ?? '')) {
    throw new PolicyBundleSignatureError('bundle signature scope does not match');
  }

  const signed = new Map(payload.files.map((file) => [file.name.replace(/^\/+/, ''), file]));
  for (const [name, bytes] of files) {
    if (name === SIGNATURES_FILE) continue;
    const entry = signed.get(name);
    if (!entry) throw new PolicyBundleSignatureError(`file ${name} is not covered by the bundle signature`);
    if (bundleFileDigest(name, bytes, entry.algorithm) !== entry.hash) {
      throw new PolicyBundleSignatureError(`file ${name} does not match its signed digest`);
    }
    signed.delete(name);
  }
  if (signed.size > 0) {
    throw new PolicyBundleSignatureError(
      `signed files missing from the bundle: ${[...signed.keys()].join(', ')}`,
    );
  }
  return keyId === undefined ? { signed: true } : { signed: true, keyId };
}
