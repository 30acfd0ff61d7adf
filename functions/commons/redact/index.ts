/**
 * The one redactor used by everything that writes a log line, a prompt, an audit record, a
 * notification or an S3 evidence object.
 *
 * - {@link redactText} / {@link createRedactStream}: secrets inside text (rules in ./rules).
 * - {@link redactValue}: any value, deeply: drops CodePipeline `artifactCredentials` objects
 *   wholesale, replaces the values of secret-named keys, redacts every string.
 * - Every call returns a {@link RedactionReport}: how many values each rule replaced and a
 *   salted hash of each distinct value, for the audit record.
 *
 * Report hashes: HMAC-SHA256(salt, value), hex, truncated to 16 characters (64 bits). The salt
 * is `options.salt`, else the environment variable `SUTURE_REDACTION_SALT`, else a random salt
 * drawn once per process. With the per-process salt, hashes only correlate within one process
 * (one Lambda execution environment); set `SUTURE_REDACTION_SALT` (from a secret store) to let
 * auditors correlate across invocations, or to check whether a known leaked credential
 * appeared, without the audit record ever holding the credential.
 */
import { randomBytes, createHmac } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import { Transform, type TransformCallback } from 'node:stream';
import {
  PEM_BEGIN,
  PEM_FINISH,
  REDACTION_RULES,
  isSecretFieldName,
  redactionMarker,
  splitValue,
  type RedactionRule,
} from './rules';

export {
  IDENTIFIER_FIELDS,
  REDACTION_RULES,
  isSecretFieldName,
  isSecretKeyName,
  redactionMarker,
} from './rules';
export type { RedactionRule } from './rules';

/** Options shared by every redaction entry point. */
export interface RedactionOptions {
  /** HMAC salt for report hashes. @default env SUTURE_REDACTION_SALT, else a per-process random salt */
  readonly salt?: string | Buffer;
  /** Nesting depth after which {@link redactValue} stops and writes `[MaxDepth]`. @default 32 */
  readonly maxDepth?: number;
  /** Distinct hashes kept in a report; `total` and `byRule` stay exact beyond it. @default 200 */
  readonly maxHashes?: number;
}

/** One redacted value, identified without being revealed. */
export interface RedactionHash {
  /** Rule that redacted it. */
  readonly rule: string;
  /** First 16 hex characters of HMAC-SHA256(salt, value). */
  readonly hash: string;
}

/** What a redaction removed; goes into the audit record. */
export interface RedactionReport {
  /** Number of redactions (occurrences, not distinct values). */
  readonly total: number;
  /** Redactions per rule id. */
  readonly byRule: Readonly<Record<string, number>>;
  /** Distinct (rule, hash) pairs, in order of first appearance, at most `maxHashes`. */
  readonly hashes: readonly RedactionHash[];
}

/** Rule id for a whole CodePipeline `artifactCredentials` object dropped by {@link redactValue}. */
export const ARTIFACT_CREDENTIALS_RULE = 'codepipeline-artifact-credentials';
/** Rule id for the value of a secret-named object key (password, sessionToken, authorization …). */
export const SECRET_FIELD_RULE = 'secret-field';
/** Rule id for a multi-line PEM private key block. */
export const PRIVATE_KEY_RULE = 'private-key';

const DEFAULT_MAX_DEPTH = 32;
const DEFAULT_MAX_HASHES = 200;
/** A private key body longer than this many lines is not a key (RSA-16384 PEM is ~200 lines). */
const MAX_PEM_LINES = 256;
/** Stream lines longer than this are redacted in pieces cut at whitespace, to bound memory. */
const DEFAULT_MAX_LINE_LENGTH = 1024 * 1024;

let processSalt: Buffer | undefined;

function resolveSalt(options: RedactionOptions): string | Buffer {
  if (options.salt !== undefined && options.salt.length > 0) return options.salt;
  const fromEnv = process.env.SUTURE_REDACTION_SALT;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  processSalt ??= randomBytes(32);
  return processSalt;
}

/** Accumulates one report; one instance per top-level call. */
class ReportBuilder {
  private total = 0;
  private readonly byRule: Record<string, number> = {};
  private readonly hashes: RedactionHash[] = [];
  private readonly seen = new Set<string>();
  private readonly salt: string | Buffer;
  private readonly maxHashes: number;

  constructor(options: RedactionOptions) {
    this.salt = resolveSalt(options);
    this.maxHashes = options.maxHashes ?? DEFAULT_MAX_HASHES;
  }

  count(rule: string): void {
    this.total++;
    this.byRule[rule] = (this.byRule[rule] ?? 0) + 1;
  }

  hash(rule: string, value: string): void {
    if (this.hashes.length >= this.maxHashes) return;
    const hash = createHmac('sha256', this.salt).update(value).digest('hex').slice(0, 16);
    const key = `${rule}\u0000${hash}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.hashes.push({ rule, hash });
  }

  add(rule: string, value: string): void {
    this.count(rule);
    this.hash(rule, value);
  }

  build(): RedactionReport {
    return { total: this.total, byRule: { ...this.byRule }, hashes: [...this.hashes] };
  }
}

function applyRule(rule: RedactionRule, line: string, report: ReportBuilder): string {
  rule.pattern.lastIndex = 0;
  if (!rule.pattern.test(line)) return line;
  rule.pattern.lastIndex = 0;
  return line.replace(rule.pattern, (...args: unknown[]) => {
    const match = args[0] as string;
    const last = args[args.length - 1];
    const groups = (typeof last === 'object' && last !== null ? last : {}) as Record<
      string,
      string | undefined
    >;
    if (groups.secret === undefined) {
      if (rule.accept && !rule.accept(match, groups)) return match;
      report.add(rule.id, match);
      return redactionMarker(rule.id);
    }
    const parts = rule.valueSyntax
      ? splitValue(groups.secret)
      : { lead: '', secret: groups.secret, trail: '' };
    if (parts.secret === '' || (rule.accept && !rule.accept(parts.secret, groups))) return match;
    report.add(rule.id, parts.secret);
    return `${groups.pre ?? ''}${parts.lead}${redactionMarker(rule.id)}${parts.trail}${groups.post ?? ''}`;
  });
}

/** Redact one line (no newline inside) with every rule. */
function redactLine(line: string, report: ReportBuilder): string {
  let result = line;
  for (const rule of REDACTION_RULES) result = applyRule(rule, result, report);
  return result;
}

/** A line inside a PEM block: base64, a `Proc-Type:`-style header, or blank; a log prefix may precede the base64. */
const PEM_BODY_LINE =
  /^[\t ]*$|(?:^|[\t ])[A-Za-z0-9+/]{16,}={0,2}[\t ]*\r?$|^[\t ]*(?:Proc-Type|DEK-Info|Comment):/;

/**
 * Redacts a text line by line. The only state across lines is a PEM private key block: from
 * its BEGIN line until its END line (or the first line that cannot belong to a key, e.g. when a
 * log cut the key short), the block is replaced by one marker and its other lines are emptied,
 * so the output keeps the input's line count and line numbers.
 */
class LineRedactor {
  private key: string[] | undefined;

  constructor(private readonly report: ReportBuilder) {}

  line(line: string): string {
    if (this.key) {
      const end = PEM_FINISH.exec(line);
      if (end) {
        this.key.push(line.slice(0, end.index + end[0].length));
        this.closeKey();
        return redactLine(line.slice(end.index + end[0].length), this.report);
      }
      if (PEM_BODY_LINE.test(line) && this.key.length < MAX_PEM_LINES) {
        this.key.push(line);
        return '';
      }
      this.closeKey();
    }
    const begin = PEM_BEGIN.exec(line);
    if (begin && !PEM_FINISH.test(line.slice(begin.index))) {
      this.key = [line.slice(begin.index)];
      return `${redactLine(line.slice(0, begin.index), this.report)}${redactionMarker(PRIVATE_KEY_RULE)}`;
    }
    return redactLine(line, this.report);
  }

  end(): void {
    if (this.key) this.closeKey();
  }

  private closeKey(): void {
    if (!this.key) return;
    this.report.add(PRIVATE_KEY_RULE, this.key.join('\n'));
    this.key = undefined;
  }
}

/**
 * Redact secrets inside a text. Line structure is preserved (see LineRedactor), so the result
 * equals what {@link createRedactStream} produces for the same text in any chunking.
 */
export function redactText(
  text: string,
  options: RedactionOptions = {},
): { text: string; report: RedactionReport } {
  const report = new ReportBuilder(options);
  return { text: redactTextWith(text, report), report: report.build() };
}

function redactTextWith(text: string, report: ReportBuilder): string {
  const redactor = new LineRedactor(report);
  if (!text.includes('\n')) {
    const single = redactor.line(text);
    redactor.end();
    return single;
  }
  const lines = text.split('\n').map((line) => redactor.line(line));
  redactor.end();
  return lines.join('\n');
}

function byteLengthOf(value: ArrayBuffer | ArrayBufferView): number {
  return value.byteLength;
}

/**
 * Redact any value, deeply, returning a new value (the input is never mutated):
 * - an `artifactCredentials` key (any case) is removed with its whole value;
 * - a secret-named key (see `isSecretFieldName`: password, secretAccessKey, sessionToken,
 *   authorization, apiKey, task_token, …, but not Suture's own identifier fields such as
 *   `signature`) keeps its name but a string or number value becomes a marker;
 *   objects under such a key are walked, not dropped, so a `credentials` object still shows
 *   its non-secret fields (an expiry, a key id checked by the text rules);
 * - every other string (and object key) goes through {@link redactText};
 * - cycles become `[Circular]`, nesting beyond `maxDepth` becomes `[MaxDepth]`, binary data
 *   becomes `[binary N bytes]` (it cannot be scanned as text), Map keys become strings, an `Error` becomes a plain
 *   object with its name, message, stack, cause and own fields, a property whose getter throws
 *   becomes `[Unreadable]`, and objects with `toJSON` are redacted as they would be serialised.
 */
export function redactValue(
  value: unknown,
  options: RedactionOptions = {},
): { value: unknown; report: RedactionReport } {
  const report = new ReportBuilder(options);
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  const ancestors = new Set<object>();

  const dropCredentials = (credentials: unknown): void => {
    report.count(ARTIFACT_CREDENTIALS_RULE);
    const leaves = (node: unknown, depth: number): void => {
      if (typeof node === 'string' && node !== '') report.hash(ARTIFACT_CREDENTIALS_RULE, node);
      else if (typeof node === 'object' && node !== null && depth < maxDepth) {
        for (const child of Object.values(node)) leaves(child, depth + 1);
      }
    };
    leaves(credentials, 0);
  };

  const walkEntries = (
    entries: Iterable<[string, () => unknown]>,
    depth: number,
  ): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [key, read] of entries) {
      let child: unknown;
      try {
        child = read();
      } catch {
        // A throwing getter (a proxy, a lazy SDK field) must not stop a log line from being written.
        out[redactTextWith(key, report)] = '[Unreadable]';
        continue;
      }
      if (/^artifactCredentials$/i.test(key)) {
        dropCredentials(child);
        continue;
      }
      if (isSecretFieldName(key) && isSecretScalar(child)) {
        report.add(SECRET_FIELD_RULE, String(child));
        out[key] = redactionMarker(SECRET_FIELD_RULE);
        continue;
      }
      out[redactTextWith(key, report)] = walk(child, depth + 1);
    }
    return out;
  };

  const walk = (node: unknown, depth: number): unknown => {
    if (typeof node === 'string') return redactTextWith(node, report);
    if (typeof node !== 'object' || node === null) return node;
    if (ancestors.has(node)) return '[Circular]';
    if (depth >= maxDepth) return '[MaxDepth]';
    if (node instanceof Date) return new Date(node.getTime());
    if (node instanceof ArrayBuffer || ArrayBuffer.isView(node))
      return `[binary ${byteLengthOf(node)} bytes]`;
    ancestors.add(node);
    try {
      if (Array.isArray(node)) return node.map((item) => walk(item, depth + 1));
      if (node instanceof Map) {
        const entries = [...node.entries()].map(
          ([key, item]) => [String(key), () => item] as [string, () => unknown],
        );
        return new Map(Object.entries(walkEntries(entries, depth)));
      }
      if (node instanceof Set) return new Set([...node].map((item) => walk(item, depth + 1)));
      if (node instanceof Error) {
        const fields: Array<[string, () => unknown]> = [
          ['name', () => node.name],
          ['message', () => node.message],
          ['stack', () => node.stack],
          ...(node.cause !== undefined ? [['cause', () => node.cause] as [string, () => unknown]] : []),
          ...Object.keys(node).map(
            (key) =>
              [key, () => (node as unknown as Record<string, unknown>)[key]] as [string, () => unknown],
          ),
        ];
        return walkEntries(fields, depth);
      }
      const toJSON = (node as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') {
        const serialised: unknown = toJSON.call(node);
        return serialised === node ? walkEntries(ownEntries(node), depth) : walk(serialised, depth);
      }
      return walkEntries(ownEntries(node), depth);
    } finally {
      ancestors.delete(node);
    }
  };

  return { value: walk(value, 0), report: report.build() };
}

function ownEntries(node: object): Array<[string, () => unknown]> {
  return Object.keys(node).map((key) => [key, () => (node as Record<string, unknown>)[key]]);
}

function isSecretScalar(value: unknown): boolean {
  if (typeof value === 'number' || typeof value === 'bigint') return true;
  if (typeof value !== 'string') return false;
  return value !== '' && !/^(?:\*+|x+|null|none|undefined|true|false)$/i.test(value);
}

/** Sum several reports (e.g. of an event and of a log excerpt) into one. */
export function mergeReports(...reports: readonly RedactionReport[]): RedactionReport {
  const byRule: Record<string, number> = {};
  const hashes: RedactionHash[] = [];
  const seen = new Set<string>();
  let total = 0;
  for (const report of reports) {
    total += report.total;
    for (const [rule, count] of Object.entries(report.byRule)) byRule[rule] = (byRule[rule] ?? 0) + count;
    for (const entry of report.hashes) {
      const key = `${entry.rule}\u0000${entry.hash}`;
      if (seen.has(key) || hashes.length >= DEFAULT_MAX_HASHES) continue;
      seen.add(key);
      hashes.push(entry);
    }
  }
  return { total, byRule, hashes };
}

/** Options of {@link createRedactStream}. */
export interface RedactStreamOptions extends RedactionOptions {
  /** A line longer than this (in characters) is redacted in pieces cut at whitespace. @default 1048576 */
  readonly maxLineLength?: number;
}

/**
 * A Transform that redacts UTF-8 text line by line. Chunk boundaries do not matter (partial
 * lines and split multi-byte characters are carried over), and the output equals
 * {@link redactText} of the whole input, except that a line longer than `maxLineLength` is cut
 * at whitespace so memory stays bounded. The report is complete after 'end'.
 */
export class RedactStream extends Transform {
  private readonly decoder = new StringDecoder('utf8');
  private readonly builder: ReportBuilder;
  private readonly redactor: LineRedactor;
  private readonly maxLineLength: number;
  private pending = '';

  /** @param options salt, hash cap and line length; see {@link RedactStreamOptions}. */
  constructor(options: RedactStreamOptions = {}) {
    super();
    this.builder = new ReportBuilder(options);
    this.redactor = new LineRedactor(this.builder);
    this.maxLineLength = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
  }

  /** The report so far; final once the stream has ended. */
  get report(): RedactionReport {
    return this.builder.build();
  }

  override _transform(chunk: Buffer | string, encoding: BufferEncoding, callback: TransformCallback): void {
    const text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    this.consume(text, false);
    callback();
  }

  override _flush(callback: TransformCallback): void {
    this.consume(this.decoder.end(), true);
    callback();
  }

  private consume(text: string, final: boolean): void {
    const data = this.pending + text;
    const lines = data.split('\n');
    this.pending = lines.pop() ?? '';
    const out: string[] = lines.map((line) => `${this.redactor.line(line)}\n`);
    while (this.pending.length > this.maxLineLength) {
      const cut = Math.max(
        this.pending.lastIndexOf(' ', this.maxLineLength),
        this.pending.lastIndexOf('\t', this.maxLineLength),
      );
      const at = cut > 0 ? cut + 1 : this.maxLineLength;
      out.push(this.redactor.line(this.pending.slice(0, at)));
      this.pending = this.pending.slice(at);
    }
    if (final) {
      if (this.pending !== '') out.push(this.redactor.line(this.pending));
      this.pending = '';
      this.redactor.end();
    }
    if (out.length > 0) this.push(out.join(''));
  }
}

/** A fresh {@link RedactStream}. */
export function createRedactStream(options: RedactStreamOptions = {}): RedactStream {
  return new RedactStream(options);
}
