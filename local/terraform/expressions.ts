/**
 * A small evaluator for the subset of the HCL native expression syntax that Terraform JSON
 * (`*.tf.json`) strings use in the synthesised module, so local simulators can read values
 * (Step Functions definitions, EventBridge patterns, ...) from the module itself.
 *
 * Supported:
 * - templates: `"text ${expr} text"`, `$${` / `%%{` escapes; a template that is exactly one
 *   `${expr}` yields the expression's value with its type (HCL "template unwrapping");
 * - literals: numbers, quoted strings with HCL escapes (`\n \r \t \" \\ \uNNNN \UNNNNNNNN`),
 *   `true`, `false`, `null`;
 * - tuples `[a, b]`, objects `{ key = v, "key" = v, key: v, (expr) = v }` (commas optional
 *   between newline-separated items, trailing commas allowed);
 * - traversals: `var.x`, `local.x`, `data.<type>.<name>.<attr>`, `<type>.<name>.<attr>`, ...;
 *   index `x[0]`, `x["k"]`, attributes on any value, splat `x[*].attr` (and legacy `x.*.attr`);
 * - operators `! -` (unary), `* / %`, `+ -`, `< <= > >=`, `== !=`, `&&`, `||`, `c ? a : b`;
 * - for expressions `[for v in c : e]`, `[for k, v in c : e if cond]`,
 *   `{for k, v in c : k => v}` (and the grouping form `k => v...`);
 * - functions: jsonencode, jsondecode, coalesce, try, can, one, length, lookup, merge, concat,
 *   flatten, contains, keys, values, tostring, tonumber, tobool, tolist, toset, tomap, format
 *   (`%s %d %v %%`), join, split, upper, lower, min, max, floor, ceil, abs, element, distinct,
 *   compact, startswith, endswith, substr, replace (no regex), sha1, sha256.
 *
 * Not supported (an Error names the construct and the expression snippet): template directives
 * `%{...}`, heredocs, strip markers, provider functions, other functions.
 *
 * References other than `var.*` go to {@link EvaluationScope.resolveReference} with the longest
 * dotted attribute path (e.g. `['data', 'aws_region', 'r', 'region']`, `['local', 'x']`,
 * `['aws_lambda_function', 'f', 'arn']`); traversal steps after it (index, splat, attributes
 * past a collection) are applied by the evaluator. A resolver may return a {@link LazyObject}
 * whose attributes are computed on access.
 *
 * Values are plain JSON-like JavaScript values: string, number, boolean, null, arrays, objects.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** What evaluation reads from: input variables and a resolver for every other reference. */
export interface EvaluationScope {
  readonly variables: Record<string, unknown>;
  resolveReference(path: string[]): unknown;
}

/** An object whose attributes are computed on access (e.g. a resource known only by address). */
export class LazyObject {
  constructor(
    readonly description: string,
    private readonly attribute: (name: string) => unknown,
  ) {}

  get(name: string): unknown {
    return this.attribute(name);
  }
}

// ---------------------------------------------------------------------------------------------
// Syntax tree

type Node =
  | { kind: 'literal'; value: unknown }
  | { kind: 'template'; parts: (string | Node)[]; src: string }
  | { kind: 'tuple'; items: Node[] }
  | { kind: 'object'; items: { key: Node; value: Node }[] }
  | { kind: 'name'; name: string }
  | { kind: 'attr'; target: Node; name: string; src: string }
  | { kind: 'index'; target: Node; key: Node; src: string }
  | { kind: 'splat'; target: Node; steps: SplatStep[]; src: string }
  | { kind: 'call'; name: string; args: Node[]; expand: boolean; src: string }
  | { kind: 'unary'; op: '!' | '-'; operand: Node; src: string }
  | { kind: 'binary'; op: string; left: Node; right: Node; src: string }
  | { kind: 'conditional'; condition: Node; then: Node; else: Node; src: string }
  | {
      kind: 'for';
      object: boolean;
      keyVar: string | undefined;
      valueVar: string;
      collection: Node;
      keyExpr: Node | undefined;
      valueExpr: Node;
      condition: Node | undefined;
      grouping: boolean;
      src: string;
    };

type SplatStep = { kind: 'attr'; name: string } | { kind: 'index'; key: Node };

/** A clear error naming the construct and the offending source. */
export class ExpressionError extends Error {
  constructor(message: string, snippet: string) {
    super(`${message} in \`${snippet.length > 120 ? `${snippet.slice(0, 117)}...` : snippet}\``);
    this.name = 'ExpressionError';
  }
}

const BINARY_LEVELS: readonly (readonly string[])[] = [
  ['||'],
  ['&&'],
  ['==', '!='],
  ['<=', '>=', '<', '>'],
  ['+', '-'],
  ['*', '/', '%'],
];

function isIdStart(c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z_]/.test(c);
}

function isIdChar(c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z0-9_-]/.test(c);
}

/** A recursive-descent parser over characters (quoted strings nest templates, so no lexer). */
class Parser {
  pos = 0;

  constructor(readonly src: string) {}

  fail(message: string, from = this.pos): never {
    throw new ExpressionError(message, this.src.slice(Math.max(0, from - 20), from + 60));
  }

  peek(offset = 0): string | undefined {
    return this.src[this.pos + offset];
  }

  /** Skips spaces, newlines and comments (`#`, `//`, `/* *\/`). */
  skip(newlines = true): void {
    for (;;) {
      const c = this.peek();
      if (c === ' ' || c === '\t' || c === '\r' || (newlines && c === '\n')) this.pos += 1;
      else if (c === '#' || (c === '/' && this.peek(1) === '/')) {
        while (this.pos < this.src.length && this.peek() !== '\n') this.pos += 1;
      } else if (c === '/' && this.peek(1) === '*') {
        const end = this.src.indexOf('*/', this.pos + 2);
        if (end < 0) this.fail('unterminated comment');
        this.pos = end + 2;
      } else return;
    }
  }

  startsWith(token: string): boolean {
    return this.src.startsWith(token, this.pos);
  }

  accept(token: string): boolean {
    this.skip();
    if (!this.startsWith(token)) return false;
    this.pos += token.length;
    return true;
  }

  expect(token: string, what: string): void {
    if (!this.accept(token)) this.fail(`expected "${token}" ${what}`);
  }

  /** Accepts a keyword only when it is a whole identifier. */
  acceptKeyword(word: string): boolean {
    this.skip();
    if (this.startsWith(word) && !isIdChar(this.src[this.pos + word.length])) {
      this.pos += word.length;
      return true;
    }
    return false;
  }

  identifier(what: string): string {
    this.skip();
    const start = this.pos;
    if (!isIdStart(this.peek())) this.fail(`expected an identifier ${what}`);
    while (isIdChar(this.peek())) this.pos += 1;
    return this.src.slice(start, this.pos);
  }

  expression(): Node {
    const start = this.pos;
    const condition = this.binary(0);
    const save = this.pos;
    if (this.accept('?')) {
      const then = this.expression();
      this.expect(':', 'in a conditional expression');
      const otherwise = this.expression();
      return {
        kind: 'conditional',
        condition,
        then,
        else: otherwise,
        src: this.src.slice(start, this.pos),
      };
    }
    this.pos = save; // leave the whitespace (a newline may separate object items)
    return condition;
  }

  binary(level: number): Node {
    const ops = BINARY_LEVELS[level];
    if (ops === undefined) return this.unary();
    const start = this.pos;
    let left = this.binary(level + 1);
    for (;;) {
      const save = this.pos;
      this.skip();
      const op = ops.find(
        (o) =>
          this.startsWith(o) &&
          // `=` of `==`/`=>` and `>` of `=>` must not be read as comparison.
          !(o === '>' && this.src[this.pos - 1] === '=') &&
          !((o === '<' || o === '>') && this.src[this.pos + 1] === '='),
      );
      if (op === undefined) {
        this.pos = save;
        return left;
      }
      this.pos += op.length;
      const right = this.binary(level + 1);
      left = { kind: 'binary', op, left, right, src: this.src.slice(start, this.pos).trim() };
    }
  }

  unary(): Node {
    this.skip();
    const start = this.pos;
    const c = this.peek();
    if ((c === '!' && this.peek(1) !== '=') || c === '-') {
      this.pos += 1;
      const operand = this.unary();
      return { kind: 'unary', op: c, operand, src: this.src.slice(start, this.pos) };
    }
    return this.postfix(this.primary());
  }

  postfix(node: Node): Node {
    for (;;) {
      // A newline ends an expression inside objects, so traversal continues on the same line only.
      this.skip(false);
      if (this.startsWith('[*]') || this.startsWith('.*')) {
        const splatStart = this.pos;
        this.pos += this.startsWith('[*]') ? 3 : 2;
        const steps: SplatStep[] = [];
        for (;;) {
          this.skip(false);
          if (this.peek() === '.' && isIdStart(this.peek(1))) {
            this.pos += 1;
            steps.push({ kind: 'attr', name: this.identifier('after "."') });
          } else if (this.peek() === '[' && !this.startsWith('[*]')) {
            this.pos += 1;
            const key = this.expression();
            this.expect(']', 'after an index');
            steps.push({ kind: 'index', key });
          } else break;
        }
        node = {
          kind: 'splat',
          target: node,
          steps,
          src: `${describe(node)}${this.src.slice(splatStart, this.pos).trim()}`,
        };
      } else if (this.peek() === '.' && isIdStart(this.peek(1))) {
        this.pos += 1;
        node = { kind: 'attr', target: node, name: this.identifier('after "."'), src: '' };
      } else if (this.peek() === '.' && /[0-9]/.test(this.peek(1) ?? '')) {
        // Legacy index syntax `x.0`.
        this.pos += 1;
        const digits = /^[0-9]+/.exec(this.src.slice(this.pos))?.[0] ?? '';
        this.pos += digits.length;
        node = { kind: 'index', target: node, key: { kind: 'literal', value: Number(digits) }, src: '' };
      } else if (this.peek() === '[') {
        this.pos += 1;
        const key = this.expression();
        this.expect(']', 'after an index');
        node = { kind: 'index', target: node, key, src: '' };
      } else return node;
    }
  }

  primary(): Node {
    this.skip();
    const start = this.pos;
    const c = this.peek();
    if (c === undefined) this.fail('unexpected end of expression');
    if (c === '"') return this.quoted();
    if (/[0-9]/.test(c)) {
      const m = /^[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(this.src.slice(this.pos));
      this.pos += m![0].length;
      return { kind: 'literal', value: Number(m![0]) };
    }
    if (c === '(') {
      this.pos += 1;
      const inner = this.expression();
      this.expect(')', 'to close a parenthesis');
      return inner;
    }
    if (c === '[') {
      this.pos += 1;
      if (this.acceptKeyword('for')) return this.forExpression(false, start);
      const items: Node[] = [];
      while (!this.accept(']')) {
        items.push(this.expression());
        if (!this.accept(',')) {
          this.expect(']', 'to close a tuple');
          break;
        }
      }
      return { kind: 'tuple', items };
    }
    if (c === '{') {
      this.pos += 1;
      const save = this.pos;
      if (this.acceptKeyword('for')) {
        this.skip();
        // `{ for = 1 }` is an object with the key "for"; `{ for x in ... }` is a for expression.
        if (isIdStart(this.peek())) return this.forExpression(true, start);
        this.pos = save;
      }
      return this.object();
    }
    if (this.startsWith('<<')) this.fail('unsupported construct: heredoc');
    if (isIdStart(c)) {
      const name = this.identifier('');
      if (name === 'true' || name === 'false') return { kind: 'literal', value: name === 'true' };
      if (name === 'null') return { kind: 'literal', value: null };
      this.skip(false);
      if (this.startsWith('::')) this.fail('unsupported construct: provider function', start);
      if (this.peek() === '(') {
        this.pos += 1;
        const args: Node[] = [];
        let expand = false;
        while (!this.accept(')')) {
          args.push(this.expression());
          if (this.accept('...')) expand = true;
          if (!this.accept(',')) {
            this.expect(')', `to close the call of ${name}()`);
            break;
          }
        }
        return { kind: 'call', name, args, expand, src: this.src.slice(start, this.pos) };
      }
      return { kind: 'name', name };
    }
    return this.fail(`unsupported construct: unexpected "${c}"`);
  }

  object(): Node {
    const items: { key: Node; value: Node }[] = [];
    for (;;) {
      if (this.accept('}')) break;
      this.skip();
      let key: Node;
      if (isIdStart(this.peek())) {
        const save = this.pos;
        const name = this.identifier('');
        this.skip();
        // A bare identifier key is a literal string; anything longer is an expression.
        if (this.peek() === '=' || this.peek() === ':') key = { kind: 'literal', value: name };
        else {
          this.pos = save;
          key = this.binary(0);
        }
      } else key = this.binary(0);
      this.skip();
      if (this.peek() === '=' && this.peek(1) !== '=') this.pos += 1;
      else if (this.peek() === ':') this.pos += 1;
      else this.fail('expected "=" or ":" after an object key');
      const value = this.expression();
      items.push({ key, value });
      this.skip(false);
      if (this.peek() === ',' || this.peek() === '\n') this.pos += 1;
      else {
        this.expect('}', 'to close an object');
        break;
      }
    }
    return { kind: 'object', items };
  }

  forExpression(object: boolean, start: number): Node {
    let keyVar: string | undefined;
    let valueVar = this.identifier('after "for"');
    if (this.accept(',')) {
      keyVar = valueVar;
      valueVar = this.identifier('after "," in a for expression');
    }
    if (!this.acceptKeyword('in')) this.fail('expected "in" in a for expression');
    const collection = this.expression();
    this.expect(':', 'in a for expression');
    let keyExpr: Node | undefined;
    let grouping = false;
    if (object) {
      keyExpr = this.expression();
      this.expect('=>', 'in an object for expression');
    }
    const valueExpr = this.expression();
    if (object && this.accept('...')) grouping = true;
    const condition = this.acceptKeyword('if') ? this.expression() : undefined;
    this.expect(object ? '}' : ']', 'to close a for expression');
    return {
      kind: 'for',
      object,
      keyVar,
      valueVar,
      collection,
      keyExpr,
      valueExpr,
      condition,
      grouping,
      src: this.src.slice(start, this.pos),
    };
  }

  /** A quoted template `"..."`; the parser stands on the opening quote. */
  quoted(): Node {
    const start = this.pos;
    this.pos += 1;
    const parts = this.templateParts('"');
    this.pos += 1; // closing quote
    return simplifyTemplate(parts, this.src.slice(start, this.pos));
  }

  /** Template parts until `end` (a quote) or the end of the source when `end` is undefined. */
  templateParts(end: string | undefined): (string | Node)[] {
    const parts: (string | Node)[] = [];
    let text = '';
    const start = this.pos;
    for (;;) {
      const c = this.peek();
      if (c === undefined) {
        if (end !== undefined) this.fail('unterminated string', start);
        break;
      }
      if (c === end) break;
      if (end !== undefined && c === '\\') {
        text += this.escape();
        continue;
      }
      if ((c === '$' || c === '%') && this.peek(1) === c && this.peek(2) === '{') {
        text += `${c}{`;
        this.pos += 3;
      } else if (c === '%' && this.peek(1) === '{') {
        this.fail('unsupported construct: template directive');
      } else if (c === '$' && this.peek(1) === '{') {
        this.pos += 2;
        if (this.peek() === '~') this.fail('unsupported construct: strip marker');
        if (text !== '') parts.push(text);
        text = '';
        parts.push(this.expression());
        this.skip();
        if (this.peek() === '~') this.fail('unsupported construct: strip marker');
        this.expect('}', 'to close an interpolation');
      } else {
        if (end !== undefined && c === '\n') this.fail('unterminated string', start);
        text += c;
        this.pos += 1;
      }
    }
    if (text !== '') parts.push(text);
    return parts;
  }

  escape(): string {
    const next = this.peek(1);
    this.pos += 2;
    switch (next) {
      case 'n':
        return '\n';
      case 'r':
        return '\r';
      case 't':
        return '\t';
      case '"':
        return '"';
      case '\\':
        return '\\';
      case 'u':
      case 'U': {
        const length = next === 'u' ? 4 : 8;
        const hex = this.src.slice(this.pos, this.pos + length);
        if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== length) this.fail('invalid unicode escape');
        this.pos += length;
        return String.fromCodePoint(parseInt(hex, 16));
      }
      default:
        return this.fail(`invalid escape "\\${next ?? ''}"`, this.pos - 2);
    }
  }
}

function simplifyTemplate(parts: (string | Node)[], src: string): Node {
  if (parts.length === 0) return { kind: 'literal', value: '' };
  if (parts.length === 1 && typeof parts[0] === 'string') return { kind: 'literal', value: parts[0] };
  return { kind: 'template', parts, src };
}

const templateCache = new Map<string, Node>();

/** Parses a Terraform JSON string (a template) into a syntax tree. */
function parseTemplate(source: string): Node {
  const cached = templateCache.get(source);
  if (cached !== undefined) return cached;
  const parser = new Parser(source);
  const node = simplifyTemplate(parser.templateParts(undefined), source);
  templateCache.set(source, node);
  return node;
}

/** Parses one bare expression (e.g. a variable's type constraint `list(string)`). */
function parseExpression(source: string): Node {
  const parser = new Parser(source);
  const node = parser.expression();
  parser.skip();
  if (parser.pos !== source.length) parser.fail('unexpected text after the expression');
  return node;
}

// ---------------------------------------------------------------------------------------------
// Values

type Obj = Record<string, unknown>;

function isObject(value: unknown): value is Obj {
  return (
    value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof LazyObject)
  );
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'tuple';
  if (value instanceof LazyObject) return 'object';
  return typeof value === 'object' ? 'object' : typeof value;
}

function sortedKeys(value: Obj): string[] {
  return Object.keys(value).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  if (isObject(a) && isObject(b)) {
    const keys = sortedKeys(a);
    return deepEqual(keys, sortedKeys(b)) && keys.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}

/** Terraform's string conversion of a primitive. */
function toStringValue(value: unknown, snippet: string, what = 'string conversion'): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return formatNumber(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  throw new ExpressionError(`${what}: cannot convert ${typeName(value)} to string`, snippet);
}

function formatNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) >= 1e21) return BigInt(n).toString();
  return String(n);
}

function toNumberValue(value: unknown, snippet: string, what: string): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$/.test(value.trim()))
    return Number(value);
  throw new ExpressionError(`${what}: a number is required, got ${typeName(value)}`, snippet);
}

function toBoolValue(value: unknown, snippet: string, what: string): boolean {
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 'false') return value === 'true';
  throw new ExpressionError(`${what}: a bool is required, got ${typeName(value)}`, snippet);
}

/** Reads an attribute of an object (or a {@link LazyObject}). */
export function getAttribute(value: unknown, name: string, snippet = name): unknown {
  if (value instanceof LazyObject) return value.get(name);
  if (isObject(value)) {
    if (!Object.prototype.hasOwnProperty.call(value, name))
      throw new ExpressionError(`attribute access: object has no attribute "${name}"`, snippet);
    return value[name];
  }
  if (value === null)
    throw new ExpressionError(`attribute access: attempt to get attribute "${name}" from null`, snippet);
  throw new ExpressionError(`attribute access: ${typeName(value)} has no attributes ("${name}")`, snippet);
}

function getIndex(value: unknown, key: unknown, snippet: string): unknown {
  if (Array.isArray(value)) {
    const i = toNumberValue(key, snippet, 'index');
    if (!Number.isInteger(i) || i < 0 || i >= value.length)
      throw new ExpressionError(`index: ${i} is out of range for a list of ${value.length}`, snippet);
    return value[i];
  }
  if (isObject(value) || value instanceof LazyObject)
    return getAttribute(value, toStringValue(key, snippet, 'index'), snippet);
  if (value === null) throw new ExpressionError('index: attempt to index null', snippet);
  throw new ExpressionError(`index: ${typeName(value)} cannot be indexed`, snippet);
}

/** Terraform's jsonencode: sorted object keys, `<`, `>`, `&`, U+2028, U+2029 escaped. */
function jsonEncode(value: unknown, snippet: string): string {
  const normalise = (v: unknown): unknown => {
    if (v === undefined) throw new ExpressionError('jsonencode: undefined value', snippet);
    if (typeof v === 'number' && !Number.isFinite(v))
      throw new ExpressionError('jsonencode: non-finite number', snippet);
    if (v instanceof LazyObject)
      throw new ExpressionError(`jsonencode: cannot encode ${v.description}`, snippet);
    if (Array.isArray(v)) return v.map(normalise);
    if (isObject(v)) return Object.fromEntries(sortedKeys(v).map((k) => [k, normalise(v[k])]));
    return v;
  };
  return JSON.stringify(normalise(value)).replace(/[<>&\u2028\u2029]/g, (ch) => {
    return `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

function formatString(snippet: string, format: unknown, args: unknown[]): string {
  const fmt = toStringValue(format, snippet, 'format');
  let next = 0;
  return fmt.replace(/%([%sdvq]|.)/g, (_match, verb: string) => {
    if (verb === '%') return '%';
    if (!['s', 'd', 'v'].includes(verb))
      throw new ExpressionError(`format: unsupported verb "%${verb}" (supported: %s %d %v %%)`, snippet);
    if (next >= args.length) throw new ExpressionError('format: not enough arguments', snippet);
    const arg = args[next++];
    if (verb === 'd') {
      const n = toNumberValue(arg, snippet, 'format %d');
      if (!Number.isInteger(n)) throw new ExpressionError('format %d: the number is not whole', snippet);
      return formatNumber(n);
    }
    if (verb === 'v' && (Array.isArray(arg) || isObject(arg))) return jsonEncode(arg, snippet);
    return toStringValue(arg, snippet, `format %${verb}`);
  });
}

function requireList(value: unknown, snippet: string, what: string): unknown[] {
  if (Array.isArray(value)) return value;
  throw new ExpressionError(`${what}: a list is required, got ${typeName(value)}`, snippet);
}

function requireObject(value: unknown, snippet: string, what: string): Obj {
  if (isObject(value)) return value;
  throw new ExpressionError(`${what}: a map or object is required, got ${typeName(value)}`, snippet);
}

function arity(args: unknown[], min: number, max: number, name: string, snippet: string): void {
  if (args.length < min || args.length > max)
    throw new ExpressionError(
      `function ${name}: expected ${min === max ? min : `${min} to ${max}`} arguments, got ${args.length}`,
      snippet,
    );
}

function flattenList(list: unknown[]): unknown[] {
  return list.flatMap((item) => (Array.isArray(item) ? flattenList(item) : [item]));
}

function distinctList(list: unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const item of list) if (!out.some((seen) => deepEqual(seen, item))) out.push(item);
  return out;
}

/** Functions whose arguments are evaluated first. */
const FUNCTIONS: Record<string, (args: unknown[], snippet: string) => unknown> = {
  jsonencode: (args, s) => (arity(args, 1, 1, 'jsonencode', s), jsonEncode(args[0], s)),
  jsondecode: (args, s) => {
    arity(args, 1, 1, 'jsondecode', s);
    try {
      return JSON.parse(toStringValue(args[0], s, 'jsondecode')) as unknown;
    } catch (error) {
      throw new ExpressionError(`jsondecode: ${(error as Error).message}`, s);
    }
  },
  coalesce: (args, s) => {
    const found = args.find((a) => a !== null && a !== '');
    if (found === undefined) throw new ExpressionError('coalesce: no non-null, non-empty argument', s);
    return found;
  },
  one: (args, s) => {
    arity(args, 1, 1, 'one', s);
    if (args[0] === null) return null;
    const list = requireList(args[0], s, 'one');
    if (list.length > 1) throw new ExpressionError(`one: the list has ${list.length} elements`, s);
    return list.length === 0 ? null : list[0];
  },
  length: (args, s) => {
    arity(args, 1, 1, 'length', s);
    const v = args[0];
    if (typeof v === 'string') return [...v].length;
    if (Array.isArray(v)) return v.length;
    if (isObject(v)) return Object.keys(v).length;
    throw new ExpressionError(`length: cannot take the length of ${typeName(v)}`, s);
  },
  lookup: (args, s) => {
    arity(args, 2, 3, 'lookup', s);
    const map = requireObject(args[0], s, 'lookup');
    const key = toStringValue(args[1], s, 'lookup');
    if (Object.prototype.hasOwnProperty.call(map, key)) return map[key];
    if (args.length === 3) return args[2];
    throw new ExpressionError(`lookup: no key "${key}" and no default`, s);
  },
  merge: (args, s) =>
    Object.assign({}, ...args.filter((a) => a !== null).map((a) => requireObject(a, s, 'merge'))) as Obj,
  concat: (args, s) => args.flatMap((a) => requireList(a, s, 'concat')),
  flatten: (args, s) => (arity(args, 1, 1, 'flatten', s), flattenList(requireList(args[0], s, 'flatten'))),
  contains: (args, s) => {
    arity(args, 2, 2, 'contains', s);
    return requireList(args[0], s, 'contains').some((item) => deepEqual(item, args[1]));
  },
  keys: (args, s) => (arity(args, 1, 1, 'keys', s), sortedKeys(requireObject(args[0], s, 'keys'))),
  values: (args, s) => {
    arity(args, 1, 1, 'values', s);
    const map = requireObject(args[0], s, 'values');
    return sortedKeys(map).map((k) => map[k]);
  },
  tostring: (args, s) => (
    arity(args, 1, 1, 'tostring', s),
    args[0] === null ? null : toStringValue(args[0], s, 'tostring')
  ),
  tonumber: (args, s) => (
    arity(args, 1, 1, 'tonumber', s),
    args[0] === null ? null : toNumberValue(args[0], s, 'tonumber')
  ),
  tobool: (args, s) => (
    arity(args, 1, 1, 'tobool', s),
    args[0] === null ? null : toBoolValue(args[0], s, 'tobool')
  ),
  tolist: (args, s) => (arity(args, 1, 1, 'tolist', s), requireList(args[0], s, 'tolist')),
  toset: (args, s) => (arity(args, 1, 1, 'toset', s), distinctList(requireList(args[0], s, 'toset'))),
  tomap: (args, s) => (arity(args, 1, 1, 'tomap', s), requireObject(args[0], s, 'tomap')),
  format: (args, s) => {
    if (args.length < 1) throw new ExpressionError('function format: expected a format string', s);
    return formatString(s, args[0], args.slice(1));
  },
  join: (args, s) => {
    arity(args, 2, 2, 'join', s);
    const sep = toStringValue(args[0], s, 'join');
    return requireList(args[1], s, 'join')
      .map((v) => toStringValue(v, s, 'join'))
      .join(sep);
  },
  split: (args, s) => {
    arity(args, 2, 2, 'split', s);
    return toStringValue(args[1], s, 'split').split(toStringValue(args[0], s, 'split'));
  },
  upper: (args, s) => (arity(args, 1, 1, 'upper', s), toStringValue(args[0], s, 'upper').toUpperCase()),
  lower: (args, s) => (arity(args, 1, 1, 'lower', s), toStringValue(args[0], s, 'lower').toLowerCase()),
  min: (args, s) => Math.min(...args.map((a) => toNumberValue(a, s, 'min'))),
  max: (args, s) => Math.max(...args.map((a) => toNumberValue(a, s, 'max'))),
  floor: (args, s) => (arity(args, 1, 1, 'floor', s), Math.floor(toNumberValue(args[0], s, 'floor'))),
  ceil: (args, s) => (arity(args, 1, 1, 'ceil', s), Math.ceil(toNumberValue(args[0], s, 'ceil'))),
  abs: (args, s) => (arity(args, 1, 1, 'abs', s), Math.abs(toNumberValue(args[0], s, 'abs'))),
  element: (args, s) => {
    arity(args, 2, 2, 'element', s);
    const list = requireList(args[0], s, 'element');
    if (list.length === 0) throw new ExpressionError('element: the list is empty', s);
    const i = Math.floor(toNumberValue(args[1], s, 'element'));
    if (i < 0) throw new ExpressionError('element: a negative index', s);
    return list[i % list.length];
  },
  distinct: (args, s) => (
    arity(args, 1, 1, 'distinct', s),
    distinctList(requireList(args[0], s, 'distinct'))
  ),
  compact: (args, s) => (
    arity(args, 1, 1, 'compact', s),
    requireList(args[0], s, 'compact').filter((v) => v !== null && v !== '')
  ),
  startswith: (args, s) => (
    arity(args, 2, 2, 'startswith', s),
    toStringValue(args[0], s, 'startswith').startsWith(toStringValue(args[1], s, 'startswith'))
  ),
  substr: (args, s) => {
    arity(args, 3, 3, 'substr', s);
    const chars = [...toStringValue(args[0], s, 'substr')];
    let offset = toNumberValue(args[1], s, 'substr');
    const length = toNumberValue(args[2], s, 'substr');
    if (offset < 0) offset = Math.max(0, chars.length + offset);
    return chars.slice(offset, length < 0 ? undefined : offset + length).join('');
  },
  replace: (args, s) => {
    arity(args, 3, 3, 'replace', s);
    const search = toStringValue(args[1], s, 'replace');
    if (search.length > 1 && search.startsWith('/') && search.endsWith('/'))
      throw new ExpressionError('function replace: regular expressions are not supported', s);
    return toStringValue(args[0], s, 'replace')
      .split(search)
      .join(toStringValue(args[2], s, 'replace'));
  },
  sha1: (args, s) => (
    arity(args, 1, 1, 'sha1', s),
    createHash('sha1')
      .update(toStringValue(args[0], s, 'sha1'))
      .digest('hex')
  ),
  sha256: (args, s) => (
    arity(args, 1, 1, 'sha256', s),
    createHash('sha256')
      .update(toStringValue(args[0], s, 'sha256'))
      .digest('hex')
  ),
  endswith: (args, s) => (
    arity(args, 2, 2, 'endswith', s),
    toStringValue(args[0], s, 'endswith').endsWith(toStringValue(args[1], s, 'endswith'))
  ),
};

// ---------------------------------------------------------------------------------------------
// Evaluation

type Locals = ReadonlyMap<string, unknown>;

class Evaluator {
  constructor(private readonly scope: EvaluationScope) {}

  eval(node: Node, locals: Locals): unknown {
    switch (node.kind) {
      case 'literal':
        return node.value;
      case 'template': {
        if (node.parts.length === 1 && typeof node.parts[0] !== 'string')
          return this.eval(node.parts[0]!, locals);
        return node.parts
          .map((part) => {
            if (typeof part === 'string') return part;
            const value = this.eval(part, locals);
            if (value === null)
              throw new ExpressionError('template interpolation: the value is null', node.src);
            return toStringValue(value, node.src, 'template interpolation');
          })
          .join('');
      }
      case 'tuple':
        return node.items.map((item) => this.eval(item, locals));
      case 'object': {
        const out: Obj = {};
        for (const item of node.items) {
          const key = this.eval(item.key, locals);
          if (key === null) throw new ExpressionError('object key: the key is null', '{ ... }');
          out[toStringValue(key, '{ ... }', 'object key')] = this.eval(item.value, locals);
        }
        return out;
      }
      case 'name':
      case 'attr':
        return this.traversal(node, locals);
      case 'index':
        return getIndex(this.eval(node.target, locals), this.eval(node.key, locals), describe(node));
      case 'splat': {
        const target = this.eval(node.target, locals);
        // A splat on a non-list value wraps it (null gives an empty list), as Terraform does.
        const list = Array.isArray(target) ? target : target === null ? [] : [target];
        return list.map((item) => {
          let value = item;
          for (const step of node.steps)
            value =
              step.kind === 'attr'
                ? getAttribute(value, step.name, node.src)
                : getIndex(value, this.eval(step.key, locals), node.src);
          return value;
        });
      }
      case 'call':
        return this.call(node, locals);
      case 'unary': {
        const value = this.eval(node.operand, locals);
        if (node.op === '!') return !toBoolValue(value, node.src, 'operator !');
        return -toNumberValue(value, node.src, 'operator -');
      }
      case 'binary':
        return this.binary(node, locals);
      case 'conditional': {
        const condition = this.eval(node.condition, locals);
        if (condition === null) throw new ExpressionError('conditional: the condition is null', node.src);
        return toBoolValue(condition, node.src, 'conditional')
          ? this.eval(node.then, locals)
          : this.eval(node.else, locals);
      }
      case 'for':
        return this.forExpression(node, locals);
    }
  }

  /** A root name followed by attributes: iteration variables, `var.*`, or the resolver. */
  traversal(node: Node & { kind: 'name' | 'attr' }, locals: Locals): unknown {
    const path: string[] = [];
    let root: Node = node;
    while (root.kind === 'attr') {
      path.unshift(root.name);
      root = root.target;
    }
    if (root.kind !== 'name') {
      let value = this.eval(root, locals);
      for (const name of path) value = getAttribute(value, name, describe(node));
      return value;
    }
    path.unshift(root.name);
    const [head, ...rest] = path as [string, ...string[]];
    let value: unknown;
    let remaining: string[];
    if (locals.has(head)) {
      value = locals.get(head);
      remaining = rest;
    } else if (head === 'var') {
      const [name, ...more] = rest;
      if (name === undefined)
        throw new ExpressionError('reference: "var" needs an attribute', path.join('.'));
      if (!Object.prototype.hasOwnProperty.call(this.scope.variables, name))
        throw new ExpressionError(`reference: undeclared input variable "${name}"`, path.join('.'));
      value = this.scope.variables[name];
      remaining = more;
    } else {
      if (rest.length === 0) throw new ExpressionError(`reference: unknown name "${head}"`, head);
      return this.scope.resolveReference(path);
    }
    for (const name of remaining) value = getAttribute(value, name, path.join('.'));
    return value;
  }

  call(node: Node & { kind: 'call' }, locals: Locals): unknown {
    if (node.name === 'try' || node.name === 'can') {
      if (node.name === 'can') arity(node.args, 1, 1, 'can', node.src);
      const errors: string[] = [];
      for (const arg of node.args) {
        try {
          const value = this.eval(arg, locals);
          return node.name === 'can' ? true : value;
        } catch (error) {
          errors.push((error as Error).message);
        }
      }
      if (node.name === 'can') return false;
      throw new ExpressionError(`try: no argument could be evaluated (${errors.join('; ')})`, node.src);
    }
    const fn = Object.prototype.hasOwnProperty.call(FUNCTIONS, node.name) ? FUNCTIONS[node.name] : undefined;
    if (fn === undefined) throw new ExpressionError(`unsupported function ${node.name}()`, node.src);
    let args = node.args.map((arg) => this.eval(arg, locals));
    if (node.expand) {
      const last = args.pop();
      args = [...args, ...requireList(last, node.src, `${node.name}(...) expansion`)];
    }
    return fn(args, node.src);
  }

  binary(node: Node & { kind: 'binary' }, locals: Locals): unknown {
    const what = `operator ${node.op}`;
    if (node.op === '&&' || node.op === '||') {
      const left = toBoolValue(this.eval(node.left, locals), node.src, what);
      if (node.op === '&&' && !left) return false;
      if (node.op === '||' && left) return true;
      return toBoolValue(this.eval(node.right, locals), node.src, what);
    }
    const left = this.eval(node.left, locals);
    const right = this.eval(node.right, locals);
    if (node.op === '==') return deepEqual(left, right);
    if (node.op === '!=') return !deepEqual(left, right);
    const a = toNumberValue(left, node.src, what);
    const b = toNumberValue(right, node.src, what);
    switch (node.op) {
      case '+':
        return a + b;
      case '-':
        return a - b;
      case '*':
        return a * b;
      case '/':
        if (b === 0) throw new ExpressionError('operator /: division by zero', node.src);
        return a / b;
      case '%':
        if (b === 0) throw new ExpressionError('operator %: modulo by zero', node.src);
        return a % b;
      case '<':
        return a < b;
      case '<=':
        return a <= b;
      case '>':
        return a > b;
      case '>=':
        return a >= b;
      default:
        throw new ExpressionError(`unsupported operator ${node.op}`, node.src);
    }
  }

  forExpression(node: Node & { kind: 'for' }, locals: Locals): unknown {
    const collection = this.eval(node.collection, locals);
    let entries: [unknown, unknown][];
    if (Array.isArray(collection)) entries = collection.map((v, i) => [i, v]);
    else if (isObject(collection)) entries = sortedKeys(collection).map((k) => [k, collection[k]]);
    else if (collection === null)
      throw new ExpressionError('for expression: cannot iterate over null', node.src);
    else throw new ExpressionError(`for expression: cannot iterate over ${typeName(collection)}`, node.src);

    const tupleOut: unknown[] = [];
    const objectOut: Obj = {};
    for (const [key, value] of entries) {
      const inner = new Map(locals);
      if (node.keyVar !== undefined) inner.set(node.keyVar, key);
      inner.set(node.valueVar, value);
      if (node.condition !== undefined) {
        const keep = this.eval(node.condition, inner);
        if (!toBoolValue(keep, node.src, 'for expression condition')) continue;
      }
      const item = this.eval(node.valueExpr, inner);
      if (!node.object) {
        tupleOut.push(item);
        continue;
      }
      const k = toStringValue(this.eval(node.keyExpr!, inner), node.src, 'for expression key');
      if (node.grouping) ((objectOut[k] ??= []) as unknown[]).push(item);
      else if (Object.prototype.hasOwnProperty.call(objectOut, k))
        throw new ExpressionError(`for expression: duplicate key "${k}" (use "..." to group)`, node.src);
      else objectOut[k] = item;
    }
    return node.object ? objectOut : tupleOut;
  }
}

function describe(node: Node): string {
  switch (node.kind) {
    case 'name':
      return node.name;
    case 'attr':
      return `${describe(node.target)}.${node.name}`;
    case 'index':
      return `${describe(node.target)}[...]`;
    case 'literal':
      return JSON.stringify(node.value);
    default:
      return 'src' in node ? node.src : node.kind;
  }
}

/** Evaluates a Terraform JSON string (a template) in `scope`. */
export function evaluateTemplate(source: string, scope: EvaluationScope): unknown {
  return new Evaluator(scope).eval(parseTemplate(source), new Map());
}

/** Evaluates every string of a JSON value (not object keys) in `scope`. */
export function evaluateJson(value: unknown, scope: EvaluationScope): unknown {
  if (typeof value === 'string') return evaluateTemplate(value, scope);
  if (Array.isArray(value)) return value.map((item) => evaluateJson(item, scope));
  if (isObject(value))
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, evaluateJson(v, scope)]));
  return value;
}

// ---------------------------------------------------------------------------------------------
// Type constraints (variables)

/**
 * Converts a value to a Terraform type constraint (`string`, `number`, `bool`, `any`,
 * `list(T)`, `set(T)`, `map(T)`, `tuple([...])`, `object({ a = T, b = optional(T, default) })`):
 * primitives convert as Terraform does, optional attributes get their default (or null) when
 * missing or null, object attributes not in the type are dropped, a missing required attribute
 * is an error.
 */
export function convertToType(value: unknown, typeSource: string, path = 'value'): unknown {
  return convert(value, parseExpression(typeSource), path, typeSource);
}

function convert(value: unknown, type: Node, path: string, src: string): unknown {
  const fail = (message: string): never => {
    throw new ExpressionError(`type conversion of ${path}: ${message}`, src);
  };
  if (type.kind === 'name') {
    if (value === null || type.name === 'any') return value;
    switch (type.name) {
      case 'string':
        if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
          return toStringValue(value, src);
        return fail(`a string is required, got ${typeName(value)}`);
      case 'number':
        return toNumberValue(value, src, `type conversion of ${path}`);
      case 'bool':
        return toBoolValue(value, src, `type conversion of ${path}`);
      default:
        return fail(`unsupported type "${type.name}"`);
    }
  }
  if (type.kind !== 'call') return fail('unsupported type constraint');
  if (value === null) return null;
  const [arg] = type.args;
  if (arg === undefined) return fail(`${type.name}() needs an argument`);
  switch (type.name) {
    case 'list':
    case 'set': {
      if (!Array.isArray(value)) return fail(`a list is required, got ${typeName(value)}`);
      const items = value.map((item, i) => convert(item, arg, `${path}[${i}]`, src));
      return type.name === 'set' ? distinctList(items) : items;
    }
    case 'map': {
      if (!isObject(value)) return fail(`a map is required, got ${typeName(value)}`);
      return Object.fromEntries(
        Object.entries(value).map(([k, v]) => [k, convert(v, arg, `${path}["${k}"]`, src)]),
      );
    }
    case 'tuple': {
      if (arg.kind !== 'tuple') return fail('tuple() needs a list of types');
      if (!Array.isArray(value) || value.length !== arg.items.length)
        return fail(`a tuple of ${arg.items.length} elements is required`);
      return arg.items.map((t, i) => convert(value[i], t, `${path}[${i}]`, src));
    }
    case 'object': {
      if (arg.kind !== 'object') return fail('object() needs an object of attribute types');
      if (!isObject(value)) return fail(`an object is required, got ${typeName(value)}`);
      const out: Obj = {};
      for (const item of arg.items) {
        if (item.key.kind !== 'literal' || typeof item.key.value !== 'string')
          return fail('attribute names must be identifiers');
        const name = item.key.value;
        const given = Object.prototype.hasOwnProperty.call(value, name) ? value[name] : undefined;
        const attrType = item.value;
        if (attrType.kind === 'call' && attrType.name === 'optional') {
          const [inner, fallback] = attrType.args;
          if (inner === undefined) return fail('optional() needs a type');
          const chosen =
            given === undefined || given === null
              ? fallback === undefined
                ? null
                : evaluateLiteral(fallback, src)
              : given;
          out[name] = convert(chosen, inner, `${path}.${name}`, src);
        } else {
          if (given === undefined) return fail(`attribute "${name}" is required`);
          out[name] = convert(given, attrType, `${path}.${name}`, src);
        }
      }
      return out;
    }
    default:
      return fail(`unsupported type constructor ${type.name}()`);
  }
}

function evaluateLiteral(node: Node, src: string): unknown {
  return new Evaluator({
    variables: {},
    resolveReference: (path) => {
      throw new ExpressionError(`a default may not reference ${path.join('.')}`, src);
    },
  }).eval(node, new Map());
}

// ---------------------------------------------------------------------------------------------
// Module scope

/** Resolves `<type>.<name>.<attr>` of a resource or data source. */
export type AttributeResolver = (type: string, name: string, attribute: string) => unknown;

export interface ModuleScopeOptions {
  /** Input variables; merged over the defaults of variables.tf.json. */
  readonly variables?: Record<string, unknown>;
  readonly resources?: AttributeResolver;
  readonly data?: AttributeResolver;
}

interface VariableBlock {
  default?: unknown;
  type?: string;
}

type Blocks = Record<string, Record<string, Obj>>;

/**
 * The evaluation scope of a synthesised module directory: variables (defaults from
 * variables.tf.json merged with the given ones and converted to their declared types), locals
 * from main.tf.json (evaluated lazily, once, with cycle detection), `path.module`, and
 * resources/data sources through the given resolvers. A reference to a resource or data source
 * not declared in main.tf.json is an error; one with `count` is a list of instances.
 */
export class ModuleScope implements EvaluationScope {
  readonly variables: Record<string, unknown>;
  private readonly localValues = new Map<string, unknown>();
  private readonly evaluating: string[] = [];

  private constructor(
    readonly moduleDir: string,
    variables: Record<string, unknown>,
    readonly locals: Obj,
    readonly resources: Blocks,
    readonly dataSources: Blocks,
    private readonly options: ModuleScopeOptions,
  ) {
    this.variables = variables;
  }

  static load(moduleDir: string, options: ModuleScopeOptions = {}): ModuleScope {
    const read = (file: string): Obj => JSON.parse(readFileSync(join(moduleDir, file), 'utf8')) as Obj;
    const declared = (read('variables.tf.json').variable ?? {}) as Record<string, VariableBlock>;
    const given = options.variables ?? {};
    const unknown = Object.keys(given).filter((name) => !(name in declared));
    if (unknown.length > 0)
      throw new Error(`ModuleScope: variables not declared in variables.tf.json: ${unknown.join(', ')}`);
    const variables: Record<string, unknown> = {};
    for (const [name, block] of Object.entries(declared)) {
      let value: unknown;
      if (given[name] !== undefined) value = given[name];
      else if ('default' in block) value = block.default;
      else
        throw new Error(
          `ModuleScope: variable "${name}" is required: it has no default in variables.tf.json and no value was given`,
        );
      variables[name] = block.type === undefined ? value : convertToType(value, block.type, `var.${name}`);
    }
    const main = read('main.tf.json');
    return new ModuleScope(
      moduleDir,
      variables,
      (main.locals ?? {}) as Obj,
      (main.resource ?? {}) as Blocks,
      (main.data ?? {}) as Blocks,
      options,
    );
  }

  /** Evaluates every string of a JSON value. */
  evaluate(value: unknown): unknown {
    return evaluateJson(value, this);
  }

  /** The value of `local.<name>`. */
  local(name: string): unknown {
    if (this.localValues.has(name)) return this.localValues.get(name);
    if (!Object.prototype.hasOwnProperty.call(this.locals, name))
      throw new Error(`ModuleScope: no local "${name}" in main.tf.json`);
    if (this.evaluating.includes(name))
      throw new Error(`ModuleScope: cycle between locals: ${[...this.evaluating, name].join(' -> ')}`);
    this.evaluating.push(name);
    try {
      const value = this.evaluate(this.locals[name]);
      this.localValues.set(name, value);
      return value;
    } finally {
      this.evaluating.pop();
    }
  }

  resolveReference(path: string[]): unknown {
    const [head, ...rest] = path as [string, ...string[]];
    const address = path.join('.');
    const descend = (value: unknown, attrs: string[]): unknown =>
      attrs.reduce((v, name) => getAttribute(v, name, address), value);
    if (head === 'local') return descend(this.local(rest[0]!), rest.slice(1));
    if (head === 'path') {
      if (rest[0] === 'module' || rest[0] === 'root') return descend(this.moduleDir, rest.slice(1));
      if (rest[0] === 'cwd') return descend(process.cwd(), rest.slice(1));
    }
    if (head === 'data') {
      const [type, name, ...attrs] = rest;
      if (type === undefined || name === undefined)
        throw new Error(`ModuleScope: incomplete data source reference ${address}`);
      return this.instance(
        this.dataSources,
        'data source',
        `data.${type}.${name}`,
        type,
        name,
        attrs,
        (attr) => this.attributeOf(this.options.data, 'data source', type, name, attr),
      );
    }
    if (['count', 'each', 'self', 'terraform'].includes(head))
      throw new Error(`ModuleScope: unsupported reference ${address}`);
    const [name, ...attrs] = rest;
    if (name === undefined) throw new Error(`ModuleScope: incomplete reference ${address}`);
    return this.instance(this.resources, 'resource', `${head}.${name}`, head, name, attrs, (attr) =>
      this.attributeOf(this.options.resources, 'resource', head, name, attr),
    );
  }

  private instance(
    blocks: Blocks,
    kind: string,
    address: string,
    type: string,
    name: string,
    attrs: string[],
    attribute: (attr: string) => unknown,
  ): unknown {
    const block = blocks[type]?.[name];
    if (block === undefined) throw new Error(`ModuleScope: no ${kind} ${address} in main.tf.json`);
    if (block.for_each !== undefined)
      throw new Error(`ModuleScope: for_each ${kind}s are not supported (${address})`);
    let value: unknown;
    if (block.count !== undefined) {
      if (attrs.length > 0)
        throw new Error(`ModuleScope: ${address} has count: index it before reading ${attrs.join('.')}`);
      const count = toNumberValue(this.evaluate(block.count), address, 'count');
      return Array.from({ length: count }, (_, i) => new LazyObject(`${address}[${i}]`, attribute));
    }
    const [first, ...more] = attrs;
    if (first === undefined) value = new LazyObject(address, attribute);
    else value = attribute(first);
    return more.reduce((v, attr) => getAttribute(v, attr, `${address}.${attrs.join('.')}`), value);
  }

  private attributeOf(
    resolver: AttributeResolver | undefined,
    kind: string,
    type: string,
    name: string,
    attr: string,
  ): unknown {
    const value = resolver?.(type, name, attr);
    if (value === undefined)
      throw new Error(`ModuleScope: no value for the ${kind} attribute ${type}.${name}.${attr}`);
    return value;
  }
}
