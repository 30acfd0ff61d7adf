/**
 * EventBridge event pattern matching (content filtering), for local simulators that route
 * events with the patterns taken from the synthesised module.
 *
 * Semantics (Amazon EventBridge user guide, "Content filtering in event patterns" and
 * "Comparison operators"):
 * - every key of a pattern must match (AND); `"$or": [p1, p2]` matches when any sub-pattern does;
 * - a pattern value that is an object matches the event field's object (or any object of an
 *   event array) recursively; a missing object counts as all its fields missing;
 * - a pattern value that is an array lists matchers, any of which may match (OR); an event
 *   field that is an array matches when any of its elements matches;
 * - literal matchers (string, number, boolean, null) match equal values of the same type
 *   (numbers numerically); `null` matches a field present with the value null;
 * - `{prefix}`, `{suffix}` (a string, or `{equals-ignore-case: string}`), `{equals-ignore-case}`,
 *   `{wildcard}` (`*` any characters, `\*` a literal star) match strings only;
 * - `{numeric: [op, n, op, n]}` (ops `=`, `<`, `<=`, `>`, `>=`) matches numbers only;
 * - `{cidr: "a.b.c.d/n"}` matches IPv4 address strings in the block;
 * - `{exists: true}` matches a present field (any value, null included), `{exists: false}` a
 *   missing one; a missing field fails every other matcher;
 * - `{anything-but: v | [v...] | {prefix} | {suffix} | {equals-ignore-case} | {wildcard}}`
 *   matches a present field with a value that is none of those (for an event array: any
 *   element that is none of those).
 *
 * A malformed pattern or an unknown operator throws an Error naming it.
 */

type Json = Record<string, unknown>;

const MISSING = Symbol('missing');

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function flatten(value: unknown): unknown[] {
  return Array.isArray(value) ? value.flatMap(flatten) : [value];
}

/** True when `event` matches the EventBridge `pattern`. */
export function matchesEventPattern(pattern: Record<string, unknown>, event: unknown): boolean {
  if (!isObject(pattern)) throw new Error('event pattern: the pattern must be a JSON object');
  return matchesObject(pattern, event, '');
}

function matchesObject(pattern: Json, event: unknown, path: string): boolean {
  return Object.entries(pattern).every(([key, expected]) => {
    const where = path === '' ? key : `${path}.${key}`;
    if (key === '$or') {
      if (!Array.isArray(expected) || expected.length < 2 || !expected.every(isObject))
        throw new Error(`event pattern: "$or" at ${where} must be an array of at least two patterns`);
      return expected.some((sub) => matchesObject(sub, event, path));
    }
    const candidates = isObject(event)
      ? [event]
      : Array.isArray(event)
        ? flatten(event).filter(isObject)
        : [];
    const present = candidates.filter((c) => Object.prototype.hasOwnProperty.call(c, key));
    if (isObject(expected)) {
      if (present.length === 0) return matchesObject(expected, MISSING, where);
      return present.some((c) => {
        const inner = c[key];
        if (isObject(inner) || Array.isArray(inner)) return matchesObject(expected, inner, where);
        return false;
      });
    }
    if (!Array.isArray(expected))
      throw new Error(`event pattern: the value at ${where} must be an array or an object`);
    if (present.length === 0) return matchesLeaf(expected, MISSING, where);
    return present.some((c) => matchesLeaf(expected, c[key], where));
  });
}

function matchesLeaf(matchers: unknown[], value: unknown, where: string): boolean {
  const values = value === MISSING ? [] : flatten(value);
  return matchers.some((matcher) => matchesOne(matcher, value !== MISSING, values, where));
}

function matchesOne(matcher: unknown, present: boolean, values: unknown[], where: string): boolean {
  if (!isObject(matcher)) {
    if (Array.isArray(matcher)) throw new Error(`event pattern: nested array at ${where}`);
    return values.some((v) => v === matcher);
  }
  const entries = Object.entries(matcher);
  const [entry] = entries;
  if (entry === undefined || entries.length !== 1) {
    // `{numeric: [...]}` style objects hold exactly one operator.
    throw new Error(`event pattern: a matcher at ${where} must have exactly one operator`);
  }
  const [op, arg] = entry;
  switch (op) {
    case 'exists':
      if (typeof arg !== 'boolean')
        throw new Error(`event pattern: "exists" at ${where} needs true or false`);
      return arg ? present : !present;
    case 'anything-but':
      return present && values.some((v) => !anythingButExcludes(arg, v, where));
    case 'numeric': {
      const test = numericTest(arg, where);
      return values.some((v) => typeof v === 'number' && test(v));
    }
    default: {
      const test = stringTest(op, arg, where);
      return values.some((v) => typeof v === 'string' && test(v));
    }
  }
}

/** True when `value` is one of what `anything-but` excludes. */
function anythingButExcludes(arg: unknown, value: unknown, where: string): boolean {
  if (Array.isArray(arg)) {
    if (!arg.every((a) => typeof a === 'string') && !arg.every((a) => typeof a === 'number'))
      throw new Error(
        `event pattern: "anything-but" list at ${where} must hold only strings or only numbers`,
      );
    return arg.some((a) => a === value);
  }
  if (typeof arg === 'string' || typeof arg === 'number') return arg === value;
  if (isObject(arg)) {
    const entries = Object.entries(arg);
    const [entry] = entries;
    if (entry === undefined || entries.length !== 1)
      throw new Error(`event pattern: "anything-but" at ${where} needs exactly one operator`);
    const [op, inner] = entry;
    if (!['prefix', 'suffix', 'equals-ignore-case', 'wildcard'].includes(op))
      throw new Error(`event pattern: unsupported "anything-but" operator "${op}" at ${where}`);
    if (op === 'equals-ignore-case' && Array.isArray(inner))
      return typeof value === 'string' && inner.some((i) => stringTest(op, i, where)(value));
    return typeof value === 'string' && stringTest(op, inner, where)(value);
  }
  throw new Error(`event pattern: unsupported "anything-but" value at ${where}`);
}

function stringTest(op: string, arg: unknown, where: string): (value: string) => boolean {
  const needString = (): string => {
    if (typeof arg !== 'string') throw new Error(`event pattern: "${op}" at ${where} needs a string`);
    return arg;
  };
  const ignoringCase = (): string | undefined => {
    if (!isObject(arg)) return undefined;
    const inner = arg['equals-ignore-case'];
    if (Object.keys(arg).length !== 1 || typeof inner !== 'string')
      throw new Error(`event pattern: "${op}" at ${where} accepts only {"equals-ignore-case": string}`);
    return inner.toLowerCase();
  };
  switch (op) {
    case 'prefix': {
      const folded = ignoringCase();
      if (folded !== undefined) return (v) => v.toLowerCase().startsWith(folded);
      const prefix = needString();
      return (v) => v.startsWith(prefix);
    }
    case 'suffix': {
      const folded = ignoringCase();
      if (folded !== undefined) return (v) => v.toLowerCase().endsWith(folded);
      const suffix = needString();
      return (v) => v.endsWith(suffix);
    }
    case 'equals-ignore-case': {
      const folded = needString().toLowerCase();
      return (v) => v.toLowerCase() === folded;
    }
    case 'wildcard': {
      const regex = wildcardRegex(needString(), where);
      return (v) => regex.test(v);
    }
    case 'cidr': {
      const inBlock = cidrTest(needString(), where);
      return (v) => inBlock(v);
    }
    default:
      throw new Error(`event pattern: unsupported operator "${op}" at ${where}`);
  }
}

function wildcardRegex(pattern: string, where: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i += 1) {
    const c = pattern[i]!;
    if (c === '\\') {
      const next = pattern[i + 1];
      if (next !== '*' && next !== '\\')
        throw new Error(`event pattern: invalid escape in wildcard "${pattern}" at ${where}`);
      source += `\\${next}`;
      i += 1;
    } else if (c === '*') source += '.*';
    else source += c.replace(/[.+?^${}()|[\]\\/-]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 's');
}

function ipv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^[0-9]{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

function cidrTest(block: string, where: string): (value: string) => boolean {
  const [address, bits] = block.split('/');
  const base = ipv4(address ?? '');
  const size = Number(bits);
  if (base === undefined || !Number.isInteger(size) || size < 0 || size > 32)
    throw new Error(`event pattern: invalid IPv4 "cidr" block "${block}" at ${where}`);
  const span = 2 ** (32 - size);
  const start = Math.floor(base / span) * span;
  return (value) => {
    const ip = ipv4(value);
    return ip !== undefined && ip >= start && ip < start + span;
  };
}

function numericTest(arg: unknown, where: string): (value: number) => boolean {
  if (!Array.isArray(arg) || arg.length === 0 || arg.length % 2 !== 0)
    throw new Error(`event pattern: "numeric" at ${where} needs [operator, number, ...]`);
  const tests: ((v: number) => boolean)[] = [];
  for (let i = 0; i < arg.length; i += 2) {
    const op = arg[i];
    const n = arg[i + 1];
    if (typeof n !== 'number')
      throw new Error(`event pattern: "numeric" at ${where} compares with numbers only`);
    switch (op) {
      case '=':
        tests.push((v) => v === n);
        break;
      case '<':
        tests.push((v) => v < n);
        break;
      case '<=':
        tests.push((v) => v <= n);
        break;
      case '>':
        tests.push((v) => v > n);
        break;
      case '>=':
        tests.push((v) => v >= n);
        break;
      default:
        throw new Error(`event pattern: unsupported "numeric" operator ${JSON.stringify(op)} at ${where}`);
    }
  }
  return (v) => tests.every((t) => t(v));
}
