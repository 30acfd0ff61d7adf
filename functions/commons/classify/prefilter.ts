/**
 * Literal prefilter for signatures: the fixed strings one of which every match must contain.
 *
 * Most signatures match nothing in a given excerpt, and `String.prototype.includes` rejects a
 * text far faster than the regex engine can scan it (the engine cannot skip ahead on an
 * alternation). For each top-level alternative of a pattern we take its longest run of
 * mandatory literal characters; if every alternative has one, a text that contains none of them
 * cannot match, and the regex is not run.
 *
 * The analysis is conservative: anything it does not fully understand (a group, a class, an
 * escape other than escaped punctuation, a quantifier) ends the current run, and an alternative
 * with no run of {@link MIN_LITERAL} characters disables the prefilter for the whole pattern.
 */

/** Shorter literals reject too little text to be worth a pass. */
export const MIN_LITERAL = 3;

const QUANTIFIER_START = new Set(['?', '*', '+', '{']);
const SPECIAL = new Set(['\\', '^', '$', '.', '|', '?', '*', '+', '(', ')', '[', ']', '{', '}']);
// Escapes that stand for the punctuation character itself.
const LITERAL_ESCAPE = /[-\\/^$.|?*+()[\]{}'"`#:!<>=@%&,;~ ]/;

/** Splits a pattern at its top-level `|`, leaving groups and classes whole. */
function topLevelAlternatives(pattern: string): string[] | undefined {
  const parts: string[] = [];
  let depth = 0;
  let inClass = false;
  let start = 0;
  for (let index = 0; index < pattern.length; index += 1) {
    const char = pattern[index];
    if (char === '\\') {
      index += 1;
      continue;
    }
    if (inClass) {
      if (char === ']') inClass = false;
      continue;
    }
    if (char === '[') inClass = true;
    else if (char === '(') depth += 1;
    else if (char === ')') depth -= 1;
    else if (char === '|' && depth === 0) {
      parts.push(pattern.slice(start, index));
      start = index + 1;
    }
    if (depth < 0) return undefined;
  }
  if (depth !== 0 || inClass) return undefined;
  parts.push(pattern.slice(start));
  return parts;
}

/** Index just past the group or class that opens at `index` (the pattern is balanced). */
function skipBracketed(text: string, index: number): number {
  let depth = 0;
  let inClass = false;
  for (let at = index; at < text.length; at += 1) {
    const char = text[at];
    if (char === '\\') {
      at += 1;
      continue;
    }
    if (inClass) {
      if (char === ']') {
        inClass = false;
        if (depth === 0) return at + 1;
      }
      continue;
    }
    if (char === '[') inClass = true;
    else if (char === '(') depth += 1;
    else if (char === ')') {
      depth -= 1;
      if (depth === 0) return at + 1;
    }
  }
  return text.length;
}

/** Index just past the escape sequence that starts (with its backslash) at `index`. */
function skipEscape(text: string, index: number): number {
  const kind = text[index + 1] ?? '';
  const rest = text.slice(index + 2);
  let length = 0;
  if (kind === 'x') length = /^[0-9a-fA-F]{0,2}/.exec(rest)?.[0].length ?? 0;
  else if (kind === 'u')
    length = (/^\{[0-9a-fA-F]*\}/.exec(rest) ?? /^[0-9a-fA-F]{0,4}/.exec(rest))?.[0].length ?? 0;
  else if (kind === 'c') length = rest.length > 0 ? 1 : 0;
  else if (kind === 'p' || kind === 'P') length = /^\{[^}]*\}/.exec(rest)?.[0].length ?? 0;
  else if (kind === 'k') length = /^<[^>]*>/.exec(rest)?.[0].length ?? 0;
  else if (/[0-9]/.test(kind)) length = /^[0-9]*/.exec(rest)?.[0].length ?? 0;
  return index + 2 + length;
}

/** Index just past a quantifier that starts at `index`, or `index` when there is none. */
function skipQuantifier(text: string, index: number): number {
  const char = text[index];
  if (char === '?' || char === '*' || char === '+') return text[index + 1] === '?' ? index + 2 : index + 1;
  if (char === '{') {
    const match = /^\{\d+(?:,\d*)?\}\??/.exec(text.slice(index));
    if (match !== null) return index + match[0].length;
  }
  return index;
}

/** The longest run of mandatory literal characters in one alternative (may be empty). */
function longestLiteral(alternative: string): string {
  let best = '';
  let run = '';
  const endRun = () => {
    if (run.length > best.length) best = run;
    run = '';
  };
  let index = 0;
  while (index < alternative.length) {
    const char = alternative[index] as string;
    let literal: string | undefined;
    let next = index + 1;
    if (char === '\\') {
      const escaped = alternative[index + 1];
      if (escaped !== undefined && LITERAL_ESCAPE.test(escaped)) literal = escaped;
      next = skipEscape(alternative, index);
    } else if (char === '(' || char === '[') {
      next = skipBracketed(alternative, index);
    } else if (!SPECIAL.has(char)) {
      literal = char;
    }
    const afterQuantifier = skipQuantifier(alternative, next);
    if (literal !== undefined && afterQuantifier === next) {
      run += literal;
    } else {
      // A quantified literal is optional or repeated, so the run stops before it.
      endRun();
      if (QUANTIFIER_START.has(alternative[next] ?? '') && afterQuantifier === next) return best; // unparsed quantifier
    }
    index = afterQuantifier;
  }
  endRun();
  return best;
}

/**
 * Literals one of which a match of this alternative contains: its longest mandatory literal run,
 * else the required literals of its first mandatory plain group (`\b(?:ENOENT|EACCES)\b`).
 */
function alternativeLiterals(alternative: string, flags: string): readonly string[] | undefined {
  const literal = longestLiteral(alternative);
  if (literal.length >= MIN_LITERAL) return [flags.includes('i') ? literal.toLowerCase() : literal];
  let index = 0;
  while (index < alternative.length) {
    const char = alternative[index];
    if (char === '\\') {
      index = skipEscape(alternative, index);
      continue;
    }
    if (char === '(' || char === '[') {
      const end = skipBracketed(alternative, index);
      const optional = /^(?:\?|\*|\{0[,}])/.test(alternative.slice(end));
      const body = alternative.slice(index + 1, end - 1);
      if (char === '(' && !optional && !body.startsWith('?')) {
        return requiredLiterals(body, flags);
      }
      if (char === '(' && !optional && body.startsWith('?:')) {
        return requiredLiterals(body.slice(2), flags);
      }
      index = end;
      continue;
    }
    index += 1;
  }
  return undefined;
}

/**
 * The literals a text must contain one of to match `pattern`, or undefined when the pattern has
 * an alternative without a mandatory literal. With the `i` flag the literals are lower-cased and
 * must be looked up in the lower-cased text.
 */
export function requiredLiterals(pattern: string, flags: string): readonly string[] | undefined {
  // Under `iu`, case folding maps characters such as U+017F (long s) to ASCII letters that
  // toLowerCase leaves alone, so a lower-cased lookup could miss a match: no prefilter.
  if (flags.includes('i') && flags.includes('u')) return undefined;
  const alternatives = topLevelAlternatives(pattern);
  if (alternatives === undefined) return undefined;
  const literals: string[] = [];
  for (const alternative of alternatives) {
    const found = alternativeLiterals(alternative, flags);
    if (found === undefined) return undefined;
    literals.push(...found);
  }
  return [...new Set(literals)];
}
