import { createHmac } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import fc from 'fast-check';
import {
  ARTIFACT_CREDENTIALS_RULE,
  IDENTIFIER_FIELDS,
  REDACTION_RULES,
  SECRET_FIELD_RULE,
  createRedactStream,
  isSecretFieldName,
  isSecretKeyName,
  mergeReports,
  redactText,
  redactValue,
} from '../../functions/commons/redact';
import { redactCli } from '../../cli/log-streams';
import jobEvent from '../fixtures/events/lambda-invoke-job-with-credentials.json';

// Fake secrets are assembled at run time: none of them is real, and none sits in the source as
// one literal that a secret scanner would (rightly) flag.
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const B64 = `${ALNUM}+/`;
const B64URL = `${ALNUM}-_`;
const filler = (alphabet: string, length: number, seed = 7): string =>
  Array.from({ length }, (_, index) => alphabet[(index * 31 + seed * 17) % alphabet.length]).join('');

const SALT = 'test-salt';
const hmac16 = (value: string, salt = SALT): string =>
  createHmac('sha256', salt).update(value).digest('hex').slice(0, 16);

interface SecretCase {
  readonly name: string;
  readonly rule: string;
  readonly secret: string;
  readonly line: string;
  readonly expected: string;
}

const awsKeyId = `AKIA${filler(UPPER_ALNUM, 16)}`;
const awsSecret = filler(B64, 40, 3);
const stsToken = `IQoJb3JpZ2luX2Vj${filler(B64, 120, 5)}`;
const ghp = `ghp_${filler(ALNUM, 36)}`;
const ghPat = `github_pat_${filler(ALNUM, 22)}_${filler(ALNUM, 59, 2)}`;
const glpat = `glpat-${filler(B64URL, 20)}`;
const npmToken = `npm_${filler(ALNUM, 36)}`;
const pypiToken = `pypi-AgEIcHlwaS5vcmc${filler(B64URL, 70)}`;
const slackToken = `xoxb-1234567890-1234567890123-${filler(ALNUM, 24)}`;
const slackHookPath = `T0000FAKE/B0000FAKE/${filler(ALNUM, 24)}`;
const stripeKey = `sk_live_${filler(ALNUM, 24)}`;
const googleKey = `AIza${filler(B64URL, 35)}`;
const jwt = `eyJhbGciOiJIUzI1NiJ9.eyJ${filler(B64URL, 30)}.${filler(B64URL, 43)}`;
const password = `S3cr3t-${filler(ALNUM, 10)}`;
const bearer = filler(ALNUM, 32, 9);
const accountKey = `${filler(B64, 86, 4)}==`;

const SECRET_CASES: readonly SecretCase[] = [
  {
    name: 'AWS access key id in an env export',
    rule: 'aws-access-key-id',
    secret: awsKeyId,
    line: `export AWS_ACCESS_KEY_ID=${awsKeyId}`,
    expected: 'export AWS_ACCESS_KEY_ID=[REDACTED:aws-access-key-id]',
  },
  {
    name: 'AWS secret access key in an aws config file',
    rule: 'secret-assignment',
    secret: awsSecret,
    line: `aws_secret_access_key = ${awsSecret}`,
    expected: 'aws_secret_access_key = [REDACTED:secret-assignment]',
  },
  {
    name: 'AWS session token in CLI JSON output',
    rule: 'aws-session-token',
    secret: stsToken,
    line: `        "SessionToken": "${stsToken}",`,
    expected: '        "SessionToken": "[REDACTED:aws-session-token]",',
  },
  {
    name: 'GitHub token as a git remote user',
    rule: 'github-token',
    secret: ghp,
    line: `git clone https://x-access-token:${ghp}@github.com/acme/app.git`,
    expected: 'git clone https://x-access-token:[REDACTED:github-token]@github.com/acme/app.git',
  },
  {
    name: 'GitHub fine-grained PAT',
    rule: 'github-token',
    secret: ghPat,
    line: `GH_TOKEN=${ghPat} gh pr create`,
    expected: 'GH_TOKEN=[REDACTED:github-token] gh pr create',
  },
  {
    name: 'GitLab personal access token in a header flag',
    rule: 'gitlab-token',
    secret: glpat,
    line: `curl --header "PRIVATE-TOKEN: ${glpat}" https://gitlab.example.com/api/v4/projects`,
    expected:
      'curl --header "PRIVATE-TOKEN: [REDACTED:gitlab-token]" https://gitlab.example.com/api/v4/projects',
  },
  {
    name: 'npm token in an .npmrc line',
    rule: 'npm-token',
    secret: npmToken,
    line: `//registry.npmjs.org/:_authToken=${npmToken}`,
    expected: '//registry.npmjs.org/:_authToken=[REDACTED:npm-token]',
  },
  {
    name: 'PyPI token for twine',
    rule: 'pypi-token',
    secret: pypiToken,
    line: `TWINE_USERNAME=__token__ TWINE_PASSWORD=${pypiToken} twine upload dist/*`,
    expected: 'TWINE_USERNAME=__token__ TWINE_PASSWORD=[REDACTED:pypi-token] twine upload dist/*',
  },
  {
    name: 'Slack bot token',
    rule: 'slack-token',
    secret: slackToken,
    line: `posting with ${slackToken} to #deploys`,
    expected: 'posting with [REDACTED:slack-token] to #deploys',
  },
  {
    name: 'Slack webhook URL',
    rule: 'slack-webhook',
    secret: slackHookPath,
    line: `curl -X POST https://hooks.slack.com/services/${slackHookPath} -d @msg.json`,
    expected: 'curl -X POST https://hooks.slack.com/services/[REDACTED:slack-webhook] -d @msg.json',
  },
  {
    name: 'Stripe live secret key',
    rule: 'stripe-key',
    secret: stripeKey,
    line: `Stripe.api_key set from ${stripeKey}`,
    expected: 'Stripe.api_key set from [REDACTED:stripe-key]',
  },
  {
    name: 'Google API key in a query string',
    rule: 'google-api-key',
    secret: googleKey,
    line: `GET https://maps.googleapis.com/maps/api/geocode/json?key=${googleKey}&address=x`,
    expected: 'GET https://maps.googleapis.com/maps/api/geocode/json?key=[REDACTED:google-api-key]&address=x',
  },
  {
    name: 'JWT in a log line',
    rule: 'jwt',
    secret: jwt,
    line: `session established id_token=${jwt} for user 42`,
    expected: 'session established id_token=[REDACTED:jwt] for user 42',
  },
  {
    name: 'basic-auth credentials in a database URL',
    rule: 'url-credentials',
    secret: password,
    line: `DATABASE_URL=postgres://app:${password}@db.internal:5432/app`,
    expected: 'DATABASE_URL=postgres://app:[REDACTED:url-credentials]@db.internal:5432/app',
  },
  {
    name: 'password in an ADO.NET connection string',
    rule: 'connection-string',
    secret: password,
    line: `Server=tcp:db.example.net,1433;Database=app;User ID=sa;Password=${password};Encrypt=true`,
    expected:
      'Server=tcp:db.example.net,1433;Database=app;User ID=sa;Password=[REDACTED:connection-string];Encrypt=true',
  },
  {
    name: 'Azure Storage account key',
    rule: 'connection-string',
    secret: accountKey,
    line: `DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=${accountKey};EndpointSuffix=core.windows.net`,
    expected:
      'DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=[REDACTED:connection-string];EndpointSuffix=core.windows.net',
  },
  {
    name: 'Authorization header in a curl command',
    rule: 'authorization-header',
    secret: bearer,
    line: `curl -H "Authorization: Bearer ${bearer}" https://api.example.com/v1/deploy`,
    expected:
      'curl -H "Authorization: Bearer [REDACTED:authorization-header]" https://api.example.com/v1/deploy',
  },
  {
    name: 'password key/value in YAML',
    rule: 'secret-assignment',
    secret: password,
    line: `    password: ${password}`,
    expected: '    password: [REDACTED:secret-assignment]',
  },
  {
    name: 'password in JSON',
    rule: 'secret-assignment',
    secret: password,
    line: `{"user":"deploy","password":"${password}","port":5432}`,
    expected: '{"user":"deploy","password":"[REDACTED:secret-assignment]","port":5432}',
  },
  {
    name: 'token in escaped JSON inside a log message',
    rule: 'secret-assignment',
    secret: password,
    line: `payload="{\\"apiToken\\":\\"${password}\\"}"`,
    expected: 'payload="{\\"apiToken\\":\\"[REDACTED:secret-assignment]\\"}"',
  },
  {
    name: 'secret in a Java toString()',
    rule: 'connection-string',
    secret: password,
    line: `Config{user=deploy, password=${password}}`,
    expected: 'Config{user=deploy, password=[REDACTED:connection-string]}',
  },
  {
    name: 'random value under a key that only mentions a secret',
    rule: 'high-entropy-assignment',
    secret: awsSecret,
    line: `SIGNING_SECRET_B64_VALUE=${awsSecret}`,
    expected: 'SIGNING_SECRET_B64_VALUE=[REDACTED:high-entropy-assignment]',
  },
];

const pemBody = [filler(B64, 64, 1), filler(B64, 64, 2), `${filler(B64, 40, 3)}==`];
const pemLines = ['-----BEGIN RSA PRIVATE KEY-----', ...pemBody, '-----END RSA PRIVATE KEY-----'];

describe('redactText: one realistic example per kind of secret', () => {
  it.each(SECRET_CASES)('$name', ({ line, expected, secret, rule }) => {
    // Prepare
    const options = { salt: SALT };

    // Act
    const { text, report } = redactText(line, options);

    // Assess
    expect(text).toBe(expected);
    expect(text).not.toContain(secret);
    expect(report.byRule[rule]).toBe(1);
    expect(report.hashes).toContainEqual({ rule, hash: hmac16(secret) });
  });

  it('replaces a multi-line PEM private key with one marker and keeps the line count', () => {
    // Prepare
    const text = ['Loading deploy key:', ...pemLines, 'key loaded'].join('\n');

    // Act
    const result = redactText(text, { salt: SALT });

    // Assess
    expect(result.text).toBe(
      ['Loading deploy key:', '[REDACTED:private-key]', '', '', '', '', 'key loaded'].join('\n'),
    );
    expect(result.report.byRule).toEqual({ 'private-key': 1 });
    expect(result.report.hashes).toEqual([{ rule: 'private-key', hash: hmac16(pemLines.join('\n')) }]);
  });

  it('redacts a PEM key written on one line with \\n escapes, as in a JSON service-account file', () => {
    // Prepare
    const line = `"private_key": "${pemLines.join('\\n')}\\n",`;

    // Act
    const { text } = redactText(line);

    // Assess
    expect(text).toBe('"private_key": "[REDACTED:private-key]\\n",');
  });

  it('redacts the rest of a key cut short by a truncated log, and resumes on the next ordinary line', () => {
    // Prepare
    const text = ['-----BEGIN OPENSSH PRIVATE KEY-----', ...pemBody.slice(0, 2), 'npm ERR! code 1'].join(
      '\n',
    );

    // Act
    const result = redactText(text);

    // Assess
    expect(result.text).toBe('[REDACTED:private-key]\n\n\nnpm ERR! code 1');
    expect(result.report.total).toBe(1);
  });
});

describe('redactText keeps what a reader needs', () => {
  it.each([
    ['a 40-hex commit SHA', 'HEAD is now at 3f786850e387550fdab836ed7e6dc881de23001b Fix flaky test'],
    ['a UUID', 'build id 6ba7b810-9dad-11d1-80b4-00c04fd430c8 started'],
    ['an IAM role ARN', 'assumed arn:aws:iam::123456789012:role/service-role/codebuild-token-role'],
    [
      'a Secrets Manager ARN',
      'reading arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-password-AbCdEf',
    ],
    ['a KMS key ARN', 'arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab'],
    ['a path with a line number', "src/auth/token.ts:42:7 - error TS2322: Type 'string' is not assignable"],
    [
      'the word token in prose',
      'The security token included in the request is invalid; refresh the token and retry',
    ],
    [
      'an AWS error code followed by its message',
      'ExpiredToken: The security token included in the request is expired',
    ],
    ['a password prompt without a value', 'Enter password:'],
    [
      'a path under a key named like a secret',
      'GOOGLE_APPLICATION_CREDENTIALS=/secrets/sa.json password_file=/run/secrets/db',
    ],
    ['a CI template reference', 'NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}'],
    ['a pagination token', '{"nextToken": "eyJ2IjoxfQ==", "items": []}'],
    ['LLM token limits', 'max_tokens=4096 token_count=1234 tokens: 17'],
    ['a cache key', 'Cache restored from key: Linux-node-20-9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c'],
    [
      'base64 digests without a secret-ish key',
      'integrity sha512-3QeRlH9c3Z9XJ8a1Yb2c4d5E6f7G8h9I0jKlMnOpQrStUvWxYz0123456789abcdefABCDEF==',
    ],
  ])('keeps %s', (_name, line) => {
    // Prepare
    const options = { salt: SALT };

    // Act
    const { text, report } = redactText(line, options);

    // Assess
    expect(text).toBe(line);
    expect(report.total).toBe(0);
  });

  it('redacts an access key id inside a line that also holds an ARN, and keeps the ARN', () => {
    // Prepare
    const line = `arn:aws:iam::123456789012:user/ci used key ${awsKeyId}`;

    // Act
    const { text } = redactText(line);

    // Assess
    expect(text).toBe('arn:aws:iam::123456789012:user/ci used key [REDACTED:aws-access-key-id]');
  });
});

describe('the redaction report', () => {
  it('counts per rule, hashes each distinct value once, and is deterministic for a salt', () => {
    // Prepare
    const text = [`a=${awsKeyId}`, `b=${awsKeyId}`, `c=${ghp}`, `password: ${password}`].join('\n');

    // Act
    const first = redactText(text, { salt: SALT });
    const second = redactText(text, { salt: SALT });
    const otherSalt = redactText(text, { salt: 'another-salt' });

    // Assess
    expect(first.report).toEqual({
      total: 4,
      byRule: { 'aws-access-key-id': 2, 'github-token': 1, 'secret-assignment': 1 },
      hashes: [
        { rule: 'aws-access-key-id', hash: hmac16(awsKeyId) },
        { rule: 'github-token', hash: hmac16(ghp) },
        { rule: 'secret-assignment', hash: hmac16(password) },
      ],
    });
    expect(second.report).toEqual(first.report);
    expect(otherSalt.report.hashes[0]?.hash).toBe(hmac16(awsKeyId, 'another-salt'));
    expect(JSON.stringify(first.report)).not.toContain(awsKeyId);
  });

  it('takes the salt from SUTURE_REDACTION_SALT, else uses one random salt per process', () => {
    // Prepare
    const previous = process.env.SUTURE_REDACTION_SALT;

    try {
      // Act
      process.env.SUTURE_REDACTION_SALT = 'from-env';
      const fromEnv = redactText(awsKeyId).report.hashes[0]?.hash;
      delete process.env.SUTURE_REDACTION_SALT;
      const randomA = redactText(awsKeyId).report.hashes[0]?.hash;
      const randomB = redactText(awsKeyId).report.hashes[0]?.hash;

      // Assess
      expect(fromEnv).toBe(hmac16(awsKeyId, 'from-env'));
      expect(randomA).toMatch(/^[0-9a-f]{16}$/);
      expect(randomA).not.toBe(fromEnv);
      expect(randomB).toBe(randomA);
    } finally {
      if (previous === undefined) delete process.env.SUTURE_REDACTION_SALT;
      else process.env.SUTURE_REDACTION_SALT = previous;
    }
  });

  it('merges reports by summing counts and keeping distinct hashes', () => {
    // Prepare
    const a = redactText(`x=${awsKeyId} y=${ghp}`, { salt: SALT }).report;
    const b = redactText(`z=${awsKeyId}`, { salt: SALT }).report;

    // Act
    const merged = mergeReports(a, b);

    // Assess
    expect(merged).toEqual({
      total: 3,
      byRule: { 'aws-access-key-id': 2, 'github-token': 1 },
      hashes: [
        { rule: 'aws-access-key-id', hash: hmac16(awsKeyId) },
        { rule: 'github-token', hash: hmac16(ghp) },
      ],
    });
  });

  it('caps the number of hashes while counts stay exact', () => {
    // Prepare
    const keys = Array.from({ length: 30 }, (_, index) => `AKIA${filler(UPPER_ALNUM, 16, index + 1)}`);

    // Act
    const { report } = redactText(keys.join(' '), { maxHashes: 5 });

    // Assess
    expect(report.total).toBe(30);
    expect(report.hashes).toHaveLength(5);
  });

  it('stays linear on pathological lines (no rule backtracks quadratically)', () => {
    // Prepare: each of these took seconds at 40k characters before key names and URL parts were bounded.
    const lines = [
      'a.'.repeat(25_000),
      'key'.repeat(15_000),
      'token'.repeat(10_000),
      'https://a:'.repeat(5_000),
    ];

    // Act
    const started = Date.now();
    for (const line of lines) redactText(line);
    const elapsed = Date.now() - started;

    // Assess: linear work is ~10 ms here; quadratic work is minutes.
    expect(elapsed).toBeLessThan(2_000);
  });

  it('every rule has a unique id and a description', () => {
    // Prepare
    const ids = REDACTION_RULES.map((rule) => rule.id);

    // Act
    const unique = new Set(ids);

    // Assess
    expect(unique.size).toBe(ids.length);
    for (const rule of REDACTION_RULES) {
      expect(rule.description.length).toBeGreaterThan(10);
      expect(rule.pattern.flags).toContain('g');
    }
  });
});

describe('redactValue', () => {
  it('drops artifactCredentials from the CodePipeline job event and leaves the rest untouched', () => {
    // Prepare
    const event = structuredClone(jobEvent);
    const before = JSON.stringify(event);

    // Act
    const { value, report } = redactValue(event, { salt: SALT });

    // Assess
    const expected = structuredClone(jobEvent) as { 'CodePipeline.job': { data: Record<string, unknown> } };
    delete expected['CodePipeline.job'].data.artifactCredentials;
    expect(value).toEqual(expected);
    expect(JSON.stringify(value)).not.toMatch(/artifactCredentials|secret_key|session_token|access_key_ID/);
    expect(JSON.stringify(event)).toBe(before);
    expect(report.byRule).toEqual({ [ARTIFACT_CREDENTIALS_RULE]: 1 });
    expect(report.hashes).toEqual([
      { rule: ARTIFACT_CREDENTIALS_RULE, hash: hmac16('secret_key') },
      { rule: ARTIFACT_CREDENTIALS_RULE, hash: hmac16('session_token') },
      { rule: ARTIFACT_CREDENTIALS_RULE, hash: hmac16('access_key_ID') },
    ]);
  });

  it('replaces values of secret-named keys, redacts secrets in other strings, never mutates the input', () => {
    // Prepare
    const input = Object.freeze({
      Credentials: Object.freeze({
        AccessKeyId: awsKeyId,
        SecretAccessKey: awsSecret,
        SessionToken: stsToken,
        Expiration: '2026-11-23T12:00:00Z',
      }),
      headers: Object.freeze({
        Authorization: `Bearer ${bearer}`,
        'x-api-key': filler(ALNUM, 20),
        accept: 'json',
      }),
      db: Object.freeze({ user: 'app', password, passwordFile: '/run/secrets/db', port: 5432 }),
      notes: [`deployed with ${ghp}`, 'nothing secret here'],
      emptyPassword: '',
    });

    // Act
    const { value, report } = redactValue(input, { salt: SALT });

    // Assess
    expect(value).toEqual({
      Credentials: {
        AccessKeyId: '[REDACTED:aws-access-key-id]',
        SecretAccessKey: '[REDACTED:secret-field]',
        SessionToken: '[REDACTED:secret-field]',
        Expiration: '2026-11-23T12:00:00Z',
      },
      headers: {
        Authorization: '[REDACTED:secret-field]',
        'x-api-key': '[REDACTED:secret-field]',
        accept: 'json',
      },
      db: { user: 'app', password: '[REDACTED:secret-field]', passwordFile: '/run/secrets/db', port: 5432 },
      notes: ['deployed with [REDACTED:github-token]', 'nothing secret here'],
      emptyPassword: '',
    });
    expect(report.byRule).toEqual({ 'aws-access-key-id': 1, [SECRET_FIELD_RULE]: 5, 'github-token': 1 });
  });

  it("keeps Suture's own identifier fields, and only those, although their names look secret", () => {
    // Prepare: a classify record's data and a triaged incident, as the handlers write them.
    const taskToken = filler(B64URL, 120, 5);
    const input = {
      classification: { class: 'transient_network', confidence: 0.93, signature: 'npm-econnreset' },
      incident: {
        fingerprint: 'a'.repeat(64),
        signature: `JobFailed npm ERR! network export AWS_ACCESS_KEY_ID=${awsKeyId}`,
      },
      task_token: taskToken,
      taskToken,
      foreign: { Signature: 'npm-econnreset', 'X-Amz-Signature': 'f'.repeat(64), requestSignature: 'abc' },
    };

    // Act
    const { value, report } = redactValue(input, { salt: SALT });

    // Assess: the identifiers stay (a secret inside one is still found by the text rules) ...
    expect(value).toEqual({
      classification: { class: 'transient_network', confidence: 0.93, signature: 'npm-econnreset' },
      incident: {
        fingerprint: 'a'.repeat(64),
        signature: 'JobFailed npm ERR! network export AWS_ACCESS_KEY_ID=[REDACTED:aws-access-key-id]',
      },
      // ... and everything else named like a secret goes, the callback token first of all.
      task_token: '[REDACTED:secret-field]',
      taskToken: '[REDACTED:secret-field]',
      foreign: {
        Signature: '[REDACTED:secret-field]',
        'X-Amz-Signature': '[REDACTED:secret-field]',
        requestSignature: '[REDACTED:secret-field]',
      },
    });
    expect(report.byRule).toEqual({ 'aws-access-key-id': 1, [SECRET_FIELD_RULE]: 5 });
  });

  it('lists only identifier fields that would otherwise be redacted, and never a token', () => {
    expect([...IDENTIFIER_FIELDS].length).toBeGreaterThan(0);
    for (const field of IDENTIFIER_FIELDS) {
      expect(isSecretKeyName(field)).toBe(true);
      expect(isSecretFieldName(field)).toBe(false);
      expect(field).not.toMatch(/token|password|secret|key|credential|auth|cookie|session/i);
    }
    for (const name of ['task_token', 'taskToken', 'password', 'sessionToken', 'Signature', 'signing_key']) {
      expect(isSecretFieldName(name)).toBe(true);
    }
    for (const name of ['fingerprint', 'incident_id', 'input_tokens', 'output_tokens', 'token_count']) {
      expect(isSecretFieldName(name)).toBe(false);
    }
  });

  it('survives cycles, deep nesting, errors, maps, sets, dates, binary data and throwing getters', () => {
    // Prepare
    const cyclic: Record<string, unknown> = { name: 'root' };
    cyclic.self = cyclic;
    let deep: Record<string, unknown> = { leaf: true };
    for (let level = 0; level < 50; level++) deep = { next: deep };
    const error = Object.assign(new Error(`request failed with ${ghp}`, { cause: new Error('inner') }), {
      code: 'E_FAIL',
    });
    const hostile = {
      get token(): string {
        throw new Error('no');
      },
    };

    // Act
    const { value } = redactValue(
      {
        cyclic,
        deep,
        error,
        map: new Map([['apiKey', 'k-123456']]),
        set: new Set([awsKeyId]),
        when: new Date(0),
        blob: Buffer.from('abc'),
        hostile,
      },
      { maxDepth: 10 },
    );

    // Assess
    const result = value as Record<string, unknown>;
    expect(result.cyclic).toEqual({ name: 'root', self: '[Circular]' });
    expect(JSON.stringify(result.deep)).toContain('[MaxDepth]');
    expect(result.error).toMatchObject({
      name: 'Error',
      message: 'request failed with [REDACTED:github-token]',
      code: 'E_FAIL',
      cause: { name: 'Error', message: 'inner' },
    });
    expect(String((result.error as { stack: string }).stack)).not.toContain(ghp);
    expect(result.map).toEqual(new Map([['apiKey', '[REDACTED:secret-field]']]));
    expect(result.set).toEqual(new Set(['[REDACTED:aws-access-key-id]']));
    expect(result.when).toEqual(new Date(0));
    expect(result.blob).toBe('[binary 3 bytes]');
    expect(result.hostile).toEqual({ token: '[Unreadable]' });
    expect(() => JSON.stringify(value)).not.toThrow();
  });
});

async function collect(stream: NodeJS.ReadableStream): Promise<string> {
  let out = '';
  for await (const chunk of stream as AsyncIterable<Buffer | string>) out += chunk.toString();
  return out;
}

describe('createRedactStream', () => {
  const sample = [
    'Starting build → ünïcode stays intact',
    `export AWS_ACCESS_KEY_ID=${awsKeyId}`,
    ...pemLines,
    `curl -H "Authorization: Bearer ${bearer}" https://x`,
    'done',
  ].join('\n');

  it('gives the same text and report as redactText for every split position (chars and UTF-8 bytes)', async () => {
    // Prepare
    const expected = redactText(sample, { salt: SALT });
    const bytes = Buffer.from(sample);

    for (let cut = 0; cut <= bytes.length; cut++) {
      // Act
      const stream = createRedactStream({ salt: SALT });
      const output = collect(stream);
      if (cut > 0) stream.write(bytes.subarray(0, cut));
      stream.end(bytes.subarray(cut));

      // Assess
      expect(await output).toBe(expected.text);
      expect(stream.report).toEqual(expected.report);
    }
  });

  it('gives the same result for three-way splits of a short text', async () => {
    // Prepare
    const text = `password: ${password}\n-----BEGIN PRIVATE KEY-----\n${pemBody[0]}\n-----END PRIVATE KEY-----\n`;
    const expected = redactText(text).text;

    for (let first = 0; first <= text.length; first += 3) {
      for (let second = first; second <= text.length; second += 5) {
        // Act
        const output = await collect(
          Readable.from(
            [text.slice(0, first), text.slice(first, second), text.slice(second)].filter(Boolean),
          ).pipe(createRedactStream()),
        );

        // Assess
        expect(output).toBe(expected);
      }
    }
  });

  it('cuts an endless line at whitespace instead of buffering it', async () => {
    // Prepare
    const words = Array.from({ length: 2000 }, (_, index) => `word${index}`).join(' ');
    const stream = createRedactStream({ maxLineLength: 1000 });

    // Act
    const output = collect(stream);
    stream.end(`${words} ${awsKeyId}`);

    // Assess
    const text = await output;
    expect(text).toBe(`${words} [REDACTED:aws-access-key-id]`);
  });
});

describe('redactCli', () => {
  it('copies stdin to stdout redacted and writes the report file', async () => {
    // Prepare
    const dir = await mkdtemp(join(tmpdir(), 'suture-redact-'));
    const reportFile = join(dir, 'report.json');
    const stdin = Readable.from([Buffer.from(`token=${ghp}\nplain line\n`)]);
    const stdout = new PassThrough();
    const written = collect(stdout);

    // Act
    const report = await redactCli(stdin, stdout, { reportFile, salt: SALT });
    stdout.end();

    // Assess
    expect(await written).toBe('token=[REDACTED:github-token]\nplain line\n');
    expect(JSON.parse(await readFile(reportFile, 'utf8'))).toEqual(report);
    expect(report).toEqual({
      total: 1,
      byRule: { 'github-token': 1 },
      hashes: [{ rule: 'github-token', hash: hmac16(ghp) }],
    });
  });
});

describe('property: an embedded secret never survives', () => {
  const chars = (alphabet: string, min: number, max: number) =>
    fc.string({ unit: fc.constantFrom(...alphabet.split('')), minLength: min, maxLength: max });
  const secretArb: fc.Arbitrary<{ text: string; secrets: string[] }> = fc.oneof(
    chars(UPPER_ALNUM, 16, 16).map((body) => ({ text: `AKIA${body}`, secrets: [`AKIA${body}`] })),
    chars(ALNUM, 36, 40).map((body) => ({ text: `ghp_${body}`, secrets: [`ghp_${body}`] })),
    chars(B64URL, 20, 30).map((body) => ({ text: `glpat-${body}`, secrets: [`glpat-${body}`] })),
    chars(ALNUM, 36, 36).map((body) => ({ text: `npm_${body}`, secrets: [`npm_${body}`] })),
    chars(B64URL, 50, 80).map((body) => ({ text: `pypi-AgEIcHlwaS5vcmc${body}`, secrets: [body] })),
    chars(ALNUM, 24, 24).map((body) => ({ text: `xoxb-1234-5678-${body}`, secrets: [body] })),
    chars(ALNUM, 24, 30).map((body) => ({ text: `sk_live_${body}`, secrets: [body] })),
    chars(B64URL, 35, 35).map((body) => ({ text: `AIza${body}`, secrets: [body] })),
    fc
      .tuple(chars(B64URL, 10, 30), chars(B64URL, 10, 30), chars(B64URL, 20, 43))
      .map(([h, p, s]) => ({ text: `eyJ${h}.eyJ${p}.${s}`, secrets: [`eyJ${h}.eyJ${p}`] })),
    chars(B64, 60, 120).map((body) => ({ text: `IQoJb3JpZ2luX2Vj${body}`, secrets: [body] })),
    chars(ALNUM, 12, 20).map((pw) => ({ text: `https://deploy:${pw}@git.example.com/x`, secrets: [pw] })),
    chars(ALNUM, 12, 20).map((pw) => ({ text: `DB_PASSWORD=${pw}`, secrets: [pw] })),
    chars(ALNUM, 16, 40).map((tok) => ({ text: `Authorization: Bearer ${tok}`, secrets: [tok] })),
    fc.array(chars(B64, 64, 64), { minLength: 1, maxLength: 4 }).map((body) => ({
      text: ['-----BEGIN EC PRIVATE KEY-----', ...body, '-----END EC PRIVATE KEY-----'].join('\n'),
      secrets: body,
    })),
  );
  const separator = fc.constantFrom(
    ' ',
    '\n',
    '\t',
    '"',
    "'",
    ',',
    ';',
    '(',
    ')',
    '[',
    ']',
    '{',
    '}',
    '|',
    '>',
    '<',
  );

  it('for random text with a random secret embedded anywhere, the secret is not in the output', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 80 }),
        secretArb,
        separator,
        separator,
        fc.string({ maxLength: 80 }),
        (before, secret, open, close, after) => {
          // Prepare
          const text = `${before}${open}${secret.text}${close}${after}`;

          // Act
          const { text: redacted, report } = redactText(text);

          // Assess
          for (const value of secret.secrets) expect(redacted).not.toContain(value);
          expect(report.total).toBeGreaterThan(0);
        },
      ),
      { numRuns: 400 },
    );
  });
});
