/**
 * The redaction rule table.
 *
 * Every rule works on ONE line (no pattern crosses a newline; a multi-line PEM block is
 * handled by the line redactor in ./index), so redacting a whole text and redacting it as a
 * stream of lines give the same result.
 *
 * A rule's pattern has either no named groups (the whole match is the secret) or the groups
 * `pre`, `secret` and optionally `post`: only `secret` is replaced, so a reader still sees
 * which key or header held a value (`password=[REDACTED:secret-assignment]`).
 *
 * Rules run in table order: specific token formats first (so the report names the kind of
 * secret), then structural rules (URLs, headers, key/value pairs). A value that an earlier rule
 * already replaced is never matched again, because every value pattern refuses to start at
 * `[REDACTED:`.
 *
 * What is deliberately kept: 40-hex commit SHAs, UUIDs, ARNs, file paths and line numbers, and
 * words like "token" or "password" in prose. High-entropy strings are only redacted next to a
 * secret-ish key name, never on their own: build logs are full of base64 digests and hashes.
 */

/** One redaction rule. */
export interface RedactionRule {
  /** Stable id, used in `[REDACTED:<id>]` markers and in the report. */
  readonly id: string;
  /** What the rule catches, for people reading the table. */
  readonly description: string;
  /** Global pattern; see the module doc for the `pre`/`secret`/`post` groups. */
  readonly pattern: RegExp;
  /**
   * Veto for a candidate: return false to keep the match as it is (placeholders, pagination
   * tokens, error-code words, low-entropy values …).
   */
  readonly accept?: (secret: string, groups: Readonly<Record<string, string | undefined>>) => boolean;
  /**
   * The `secret` group is a raw value in some syntax (quoted or bare): quotes and trailing
   * delimiters are kept and only the inside is replaced and hashed (see {@link splitValue}).
   */
  readonly valueSyntax?: boolean;
}

/** The marker that replaces a secret. */
export function redactionMarker(ruleId: string): string {
  return `[REDACTED:${ruleId}]`;
}

/** Never treat an existing marker as a value to redact again. */
const NOT_A_MARKER = '(?!\\[REDACTED:)';

/** Characters around a token that make it a separate word (lookbehind/lookahead sets). */
const TOKEN_EDGE = 'A-Za-z0-9_\\-';

/**
 * Key-name endings that mark a secret, for `key=value`, `key: value` and object keys. The key
 * must END with one of these (`DB_PASSWORD`, `githubToken`, `x-api-key`), so `password_file`,
 * `max_tokens` or `token_count` are not secrets.
 */
export const SECRET_KEY_SUFFIX =
  '(?:password|passwd|passphrase|secret|secret[_-]?key|secret[_-]?access[_-]?key|client[_-]?secret|' +
  'token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|account[_-]?key|signing[_-]?key|master[_-]?key|' +
  'shared[_-]?access[_-]?key|auth|credential|authorization|cookie|signature|session[_-]?id)';

const SECRET_KEY_NAME = new RegExp(`^[A-Za-z0-9_.\\-]*?${SECRET_KEY_SUFFIX}$`, 'i');

/**
 * Keys that end like a secret but are not one:
 * - pagination and idempotency tokens (AWS `nextToken`, CodePipeline `continuationToken`,
 *   `clientRequestToken`) identify a position or a request, not a principal;
 * - error codes such as `ExpiredToken:` or `InvalidSignature:` are followed by a message, not a value.
 */
const NOT_SECRET_KEY_NAME =
  /^(?:(?:next|next[_-]?forward|next[_-]?backward|continuation|pagination|page|client[_-]?request|client|idempotency|cancellation)[_-]?token|(?:expired|invalid|missing|malformed|bad|unrecognized|revoked|incomplete)[_-]?[A-Za-z]*)$/i;

/** True when a key name (an object key, an env var, a header) holds a secret value. */
export function isSecretKeyName(key: string): boolean {
  return SECRET_KEY_NAME.test(key) && !NOT_SECRET_KEY_NAME.test(key);
}

/**
 * The one list of fields Suture itself writes whose names end like a secret but whose values
 * are identifiers, kept in audit records, logs and evidence by {@link isSecretFieldName}:
 * - `signature`: the id of the classifier signature that decided a class (the `classify` and
 *   `plan` steps), and the failure signature (error code and matched log line) a triaged
 *   incident is fingerprinted by. Its text still goes through every text rule, so a secret
 *   inside a matched log line is redacted all the same.
 *
 * Names match exactly and case-sensitively: `Signature`, `X-Amz-Signature` or
 * `requestSignature` in a foreign payload stay redacted. Identifiers whose names do not end
 * like a secret (`fingerprint`, `incident_id`, `execution_id`, `approval_id`, token counts such
 * as `input_tokens`) need no entry. `task_token` (the Step Functions callback token, which
 * completes a waiting workflow) is a secret and must never be listed here.
 */
export const IDENTIFIER_FIELDS: ReadonlySet<string> = new Set(['signature']);

/**
 * True when an object key's value is redacted by name: the key is a secret key name
 * ({@link isSecretKeyName}) and not one of Suture's own {@link IDENTIFIER_FIELDS}.
 */
export function isSecretFieldName(key: string): boolean {
  return !IDENTIFIER_FIELDS.has(key) && isSecretKeyName(key);
}

/** Values that are clearly not secrets even under a secret-ish key. */
const PLACEHOLDER_VALUE =
  /^(?:true|false|null|nil|none|undefined|yes|no|on|off|required|optional|\*+|x+|\.\.\.|<[^>]*>|\$\{\{[^}]*\}\}|\$\{[^}]*\}|\$\([^)]*\)|\$[A-Za-z_][A-Za-z0-9_]*|%[A-Za-z_][A-Za-z0-9_]*%|\{\{[^}]*\}\})$/i;

function isRealValue(value: string): boolean {
  return value.length > 0 && !PLACEHOLDER_VALUE.test(value);
}

/** Shannon entropy in bits per character. */
export function shannonEntropy(value: string): number {
  const counts = new Map<string, number>();
  for (const char of value) counts.set(char, (counts.get(char) ?? 0) + 1);
  let entropy = 0;
  for (const count of counts.values()) {
    const p = count / value.length;
    entropy -= p * Math.log2(p);
  }
  return entropy;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A value that looks random enough to be a credential: long, mixed, high entropy, not an id we keep. */
export function looksLikeCredential(value: string): boolean {
  if (value.length < 16 || value.startsWith('arn:') || UUID.test(value)) return false;
  if (/^(?:\/|\.{1,2}\/|~\/|[A-Za-z]:\\)/.test(value) || /^https?:\/\//.test(value)) return false;
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/].filter((re) => re.test(value)).length;
  return classes >= 2 && shannonEntropy(value) >= 3.5;
}

/** Key names are bounded (64 characters is plenty) so a long run of word characters cannot make matching quadratic. */
const KEY_CHARS = '[A-Za-z0-9_.\\-]';
/** A quoted value (double or single quotes, backslash escapes) or a bare word up to a delimiter. */
const VALUE = `(?:\\$\\{\\{[^}\\r\\n]*\\}\\}|\\\\"${NOT_A_MARKER}[^"\\\\\\r\\n]+\\\\"|"${NOT_A_MARKER}(?:[^"\\\\\\r\\n]|\\\\.)+"|'${NOT_A_MARKER}(?:[^'\\\\\\r\\n]|\\\\.)+'|${NOT_A_MARKER}[^\\s"'\`\\\\&<>]+)`;

/**
 * Splits a matched key/value value into the secret and what must stay: surrounding quotes and
 * trailing delimiters of the enclosing syntax (`,` `;` `)` `}` `]`) are kept.
 */
export function splitValue(raw: string): {
  readonly lead: string;
  readonly secret: string;
  readonly trail: string;
} {
  // CI template expressions (`${{ secrets.X }}`) end in braces that belong to them.
  if (/^\$?\{\{.*\}\}$/.test(raw)) return { lead: '', secret: raw, trail: '' };
  if (raw.length >= 4 && raw.startsWith('\\"') && raw.endsWith('\\"')) {
    return { lead: '\\"', secret: raw.slice(2, -2), trail: '\\"' };
  }
  if (raw.length >= 2 && (raw[0] === '"' || raw[0] === "'") && raw[raw.length - 1] === raw[0]) {
    return { lead: raw[0] ?? '', secret: raw.slice(1, -1), trail: raw[0] ?? '' };
  }
  const trail = /[,;)}\]]+$/.exec(raw)?.[0] ?? '';
  return { lead: '', secret: raw.slice(0, raw.length - trail.length), trail };
}

const AKIA_PREFIXES = '(?:AKIA|ASIA|ABIA|ACCA)';
const PEM_LABEL = '-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----';
const PEM_END = '-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----';

/** Start of a private key block; the line redactor in ./index uses it to follow a key across lines. */
export const PEM_BEGIN = new RegExp(PEM_LABEL);
/** End of a private key block. */
export const PEM_FINISH = new RegExp(PEM_END);

/** The rules, in the order they are applied. */
export const REDACTION_RULES: readonly RedactionRule[] = [
  {
    id: 'private-key',
    description:
      'PEM private key on one line (also with literal \\n escapes, as in JSON); to the end of the line when the END marker is missing',
    pattern: new RegExp(`${PEM_LABEL}(?:.*?${PEM_END}|.*)`, 'g'),
  },
  {
    id: 'aws-access-key-id',
    description: 'AWS access key id (AKIA… long-term, ASIA… temporary)',
    pattern: new RegExp(`(?<![A-Za-z0-9])${AKIA_PREFIXES}[A-Z0-9]{16}(?![A-Za-z0-9])`, 'g'),
  },
  {
    id: 'aws-session-token',
    description: 'AWS STS session token by its fixed base64 prefix',
    pattern: /(?<![A-Za-z0-9+/])(?:IQoJb3JpZ2luX2Vj|FwoGZXIvYXdz|FQoGZXIvYXdz)[A-Za-z0-9+/=]{20,}/g,
  },
  {
    id: 'github-token',
    description: 'GitHub personal, OAuth, app and refresh tokens (ghp_, gho_, ghu_, ghs_, ghr_, github_pat_)',
    pattern: new RegExp(
      `(?<![${TOKEN_EDGE}])(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})`,
      'g',
    ),
  },
  {
    id: 'gitlab-token',
    description: 'GitLab personal, deploy, runner, CI job, feed and OAuth tokens',
    pattern: new RegExp(
      `(?<![${TOKEN_EDGE}])(?:gl(?:pat|dt|ptt|rt|cbt|ft|imt|soat|oas|agent|wt)-[A-Za-z0-9_\\-]{20,}|GR1348941[A-Za-z0-9_\\-]{20,})`,
      'g',
    ),
  },
  {
    id: 'npm-token',
    description: 'npm access token',
    pattern: new RegExp(`(?<![${TOKEN_EDGE}])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])`, 'g'),
  },
  {
    id: 'pypi-token',
    description: 'PyPI / TestPyPI API token (a macaroon starting pypi-Ag)',
    pattern: new RegExp(`(?<![${TOKEN_EDGE}])pypi-Ag[A-Za-z0-9_\\-]{50,}`, 'g'),
  },
  {
    id: 'slack-token',
    description: 'Slack bot, user, app and configuration tokens',
    pattern: new RegExp(
      `(?<![${TOKEN_EDGE}])(?:xox[abposre]-[A-Za-z0-9-]{10,}|xapp-[0-9]-[A-Za-z0-9-]{10,})`,
      'g',
    ),
  },
  {
    id: 'slack-webhook',
    description: 'Slack incoming-webhook / workflow URL path (the path is the credential)',
    pattern: /(?<pre>hooks\.slack\.com\/(?:services|workflows|triggers)\/)(?<secret>[A-Za-z0-9_/+-]{8,})/g,
  },
  {
    id: 'stripe-key',
    description:
      'Stripe secret and restricted keys, webhook signing secrets (publishable pk_ keys are public)',
    pattern: new RegExp(
      `(?<![${TOKEN_EDGE}])(?:[sr]k_(?:live|test)_[A-Za-z0-9]{10,}|whsec_[A-Za-z0-9]{20,})`,
      'g',
    ),
  },
  {
    id: 'google-api-key',
    description: 'Google API key, OAuth access token, OAuth client secret',
    pattern: new RegExp(
      `(?<![${TOKEN_EDGE}])(?:AIza[A-Za-z0-9_\\-]{35}|ya29\\.[A-Za-z0-9_\\-]{20,}|GOCSPX-[A-Za-z0-9_\\-]{20,})`,
      'g',
    ),
  },
  {
    id: 'llm-api-key',
    description: 'OpenAI / Anthropic style API keys (sk-…, sk-proj-…, sk-ant-…)',
    pattern: new RegExp(`(?<![${TOKEN_EDGE}])sk-(?:proj-|ant-[a-z0-9]+-)?[A-Za-z0-9_\\-]{20,}`, 'g'),
  },
  {
    id: 'other-vendor-token',
    description: 'Docker Hub PATs, SendGrid keys, Hugging Face tokens, age secret keys',
    pattern: new RegExp(
      `(?<![${TOKEN_EDGE}])(?:dckr_pat_[A-Za-z0-9_\\-]{20,}|SG\\.[A-Za-z0-9_\\-]{22}\\.[A-Za-z0-9_\\-]{43}|hf_[A-Za-z]{30,}|AGE-SECRET-KEY-1[0-9A-Z]{58})`,
      'g',
    ),
  },
  {
    id: 'jwt',
    description: 'JSON Web Token (header.payload[.signature], also JWE)',
    pattern: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}(?:\.[A-Za-z0-9_-]*){0,3}/g,
  },
  {
    id: 'url-credentials',
    description: 'password in a URL user-info part (https://user:pass@host, postgres://u:p@db, …)',
    pattern: new RegExp(
      `(?<pre>\\b[A-Za-z][A-Za-z0-9+.\\-]{0,31}://[^\\s:/@'"<>]{0,256}:)${NOT_A_MARKER}(?<secret>[^\\s/'"<>]{1,256})(?<post>@)`,
      'g',
    ),
    accept: (secret) => isRealValue(secret),
  },
  {
    id: 'url-token-user',
    description: 'token used as the URL user name (https://<token>@host)',
    pattern: new RegExp(
      `(?<pre>\\b[A-Za-z][A-Za-z0-9+.\\-]{0,31}://)${NOT_A_MARKER}(?<secret>[A-Za-z0-9_\\-.~%]{20,256})(?<post>@)`,
      'g',
    ),
    accept: (secret) => looksLikeCredential(secret),
  },
  {
    id: 'connection-string',
    description:
      'secrets inside ADO.NET / Azure Storage / Service Bus style connection strings (Password=…; AccountKey=…; SharedAccessKey=…)',
    pattern: new RegExp(
      `(?<pre>(?<![A-Za-z0-9_])(?:Password|Pwd|AccountKey|SharedAccessKey|SharedAccessSignature|AccessKey|ClientSecret)[\\t ]*=[\\t ]*)${NOT_A_MARKER}(?<secret>[^;'"\\s]+)`,
      'gi',
    ),
    accept: (secret) => isRealValue(secret),
    valueSyntax: true,
  },
  {
    id: 'authorization-header',
    description: 'Authorization / Proxy-Authorization header values (Bearer, Basic, AWS4-HMAC-SHA256, …)',
    pattern: new RegExp(
      `(?<pre>(?<![A-Za-z0-9_-])(?:proxy-)?authorization\\\\?["']?[\\t ]*[:=][\\t ]*\\\\?["']?(?:(?:Bearer|Basic|Token|Digest|Negotiate|Bot|AWS4-HMAC-SHA256|token)[\\t ]+)?)${NOT_A_MARKER}(?<secret>[^\\r\\n"'\\\\]+)`,
      'gi',
    ),
    accept: (secret) => isRealValue(secret.trim()),
  },
  {
    id: 'bearer-token',
    description: 'Bearer token outside an Authorization header',
    pattern: new RegExp(`(?<pre>\\bBearer[\\t ]+)${NOT_A_MARKER}(?<secret>[A-Za-z0-9\\-._~+/]{16,}=*)`, 'g'),
  },
  {
    id: 'cookie-header',
    description: 'Cookie and Set-Cookie header values (session cookies are credentials)',
    pattern: new RegExp(
      `(?<pre>(?<![A-Za-z0-9_-])(?:set-)?cookie[\\t ]*:[\\t ]*)${NOT_A_MARKER}(?<secret>[^\\r\\n]+)`,
      'gi',
    ),
  },
  {
    id: 'secret-assignment',
    description:
      'value assigned to a secret-ish key: KEY=value, key: value, "key": "value", --password=value, ?token=value',
    // The key must not follow ':' or '/' so that ARNs (…:secret:name) and paths are kept; a ':'
    // separator needs a space or a quote after it, which YAML, JSON and headers have and URLs,
    // ARNs and `path:line` do not.
    pattern: new RegExp(
      `(?<pre>(?<![A-Za-z0-9_.:/\\\\-])(?<quote>\\\\?["']?)(?<key>${KEY_CHARS}{0,64}?${SECRET_KEY_SUFFIX})\\k<quote>[\\t ]*(?:=>?|:(?=[\\t ]|\\\\?["']))[\\t ]*)(?<secret>${VALUE})`,
      'gi',
    ),
    // Authorization and Cookie values (with their scheme words) belong to the header rules above.
    accept: (secret, groups) =>
      isSecretKeyName(groups.key ?? '') &&
      !/(?:authorization|cookie)$/i.test(groups.key ?? '') &&
      isRealValue(secret),
    valueSyntax: true,
  },
  {
    id: 'high-entropy-assignment',
    description:
      'random-looking value (≥16 chars, mixed case/digits, ≥3.5 bits/char) under a key that merely mentions key/secret/token/auth/pass/cred',
    pattern: new RegExp(
      `(?<pre>(?<![A-Za-z0-9_.:/\\\\-])(?<quote>\\\\?["']?)(?<key>${KEY_CHARS}{0,32}(?:key|secret|token|auth|pass|cred|sig)${KEY_CHARS}{0,32})\\k<quote>[\\t ]*(?:=>?|:(?=[\\t ]|\\\\?["']))[\\t ]*)(?<secret>${VALUE})`,
      'gi',
    ),
    // Cache keys, digests and resource ids are random-looking but public.
    accept: (secret, groups) =>
      isRealValue(secret) &&
      !/^-*key$/i.test(groups.key ?? '') &&
      !/cache|hash|digest|checksum|sha|etag|kms|arn|(?:^|[_.-])id$|Id$/i.test(groups.key ?? '') &&
      !/^(?:[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64})$/i.test(secret) &&
      looksLikeCredential(secret),
    valueSyntax: true,
  },
];
