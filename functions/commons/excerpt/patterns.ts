/**
 * Failure triggers: the lines of a build log that mark where it went wrong.
 *
 * Each trigger is written once, in a small syntax that is valid both as a JavaScript regular
 * expression and as a POSIX extended regular expression (`grep -E`): literals, bracket
 * expressions without negation, `( | )` groups, `? * + {m,n}` and the escapes `\. \( \) \[ \*`.
 * A word boundary cannot be written in that common syntax, so it is a flag, rendered twice:
 *
 * - ERE: `(^|[^A-Za-z0-9_])` before the body and `([^A-Za-z0-9_]|$)` after it, which is what
 *   `grep -E` (and the benchmark) runs.
 * - JavaScript: the body, then a lookbehind that checks what precedes it, then a lookahead.
 *
 * Both renderings accept exactly the same lines; the unit tests run `grep -E` on a corpus and
 * on random lines to prove it. The extractor does not run the regex over whole blocks (one
 * alternation of eleven triggers scanned at ~3 ns/byte in V8, a third of grep's speed): it
 * first finds each trigger's anchor literals with {@link AnchorFinder}, then tests only the
 * lines that hold one.
 */

/** One kind of failure line. */
export interface FailureTrigger {
  /** Stable id reported as a region's `trigger`. */
  readonly id: string;
  /** What the trigger catches, for people reading the table. */
  readonly description: string;
  /** Pattern in the JS/ERE common syntax (see module doc); must not contain `[^` or `.`. */
  readonly body: string;
  /** Context that must precede `body` (common syntax); part of the match, checked by lookbehind in JS. */
  readonly lead?: string;
  /** Require a non-word character (or line start) before `lead`/`body`. */
  readonly wordStart: boolean;
  /** Require a non-word character (or line end) after `body`. */
  readonly wordEnd: boolean;
  /**
   * Literals of which every match of this trigger contains at least one (case-sensitive). The
   * scanner looks for these first, on raw bytes, and runs the full pattern only on lines that
   * hold one. The tests check that no matching line lacks an anchor.
   */
  readonly anchors: readonly string[];
  /** Lines this trigger must match; the tests feed them to both renderings and to grep. */
  readonly examples: readonly string[];
}

const WORD_CLASS = 'A-Za-z0-9_';

/** The triggers, most specific first so a region's trigger id names the most telling one. */
export const FAILURE_TRIGGERS: readonly FailureTrigger[] = [
  {
    id: 'traceback',
    description: 'Python traceback header',
    body: 'Traceback \\(most recent call last\\)',
    wordStart: false,
    wordEnd: false,
    anchors: ['Traceback'],
    examples: ['Traceback (most recent call last):'],
  },
  {
    id: 'npm-error',
    description: 'npm/pnpm error lines (npm ≤ 9 prints "npm ERR!", npm ≥ 10 "npm error")',
    body: 'npm (ERR!|error)',
    wordStart: false,
    wordEnd: false,
    anchors: ['npm ERR!', 'npm error'],
    examples: ['npm ERR! code ELIFECYCLE', 'npm error code E404'],
  },
  {
    id: 'typescript-error',
    description: 'TypeScript compiler diagnostics',
    body: 'error TS[0-9]',
    wordStart: true,
    wordEnd: false,
    anchors: ['error TS'],
    examples: ["src/app.ts(3,7): error TS2322: Type 'string' is not assignable to type 'number'."],
  },
  {
    id: 'exit-code',
    description: 'a command or process that exited non-zero (includes "Process completed with exit code N")',
    body: '(Exit|exit)(ed with)? (code|status):? [1-9]',
    wordStart: false,
    wordEnd: false,
    anchors: ['xit code', 'xit status', 'xited with'],
    examples: [
      'Error: Process completed with exit code 1.',
      'Command did not exit successfully npm test exit status 2',
      'subprocess.CalledProcessError: returned non-zero exit status 1',
      'container exited with code 137',
    ],
  },
  {
    id: 'make-error',
    description: 'make recipe failure',
    body: '] Error [1-9]',
    wordStart: false,
    wordEnd: false,
    anchors: ['] Error '],
    examples: ['make: *** [Makefile:12: all] Error 2'],
  },
  {
    id: 'aws-cli-error',
    description: 'AWS CLI / SDK error summary',
    body: 'An error occurred \\(',
    wordStart: false,
    wordEnd: false,
    anchors: ['An error occurred ('],
    examples: ['An error occurred (AccessDenied) when calling the PutObject operation: Access Denied'],
  },
  {
    id: 'exception',
    description:
      'exceptions and typed errors with a message (TypeError:, java.lang.IllegalStateException:, Error [ERR_X]:)',
    body: '(Error|Exception)( \\[[A-Z0-9_]+])?:|Exception in thread',
    wordStart: false,
    wordEnd: false,
    anchors: ['Error', 'Exception'],
    examples: [
      "TypeError: Cannot read properties of undefined (reading 'map')",
      'Exception in thread "main" java.lang.NullPointerException',
      'Error [ERR_MODULE_NOT_FOUND]: Cannot find package',
      '│ Error: creating IAM Role: AccessDenied',
    ],
  },
  {
    id: 'error-colon',
    description: 'compiler/tool diagnostics: "error:", "error[E0308]:", "fatal:", "panic:"',
    body: '(error|fatal|panic)(\\[[A-Za-z0-9]+])?:',
    wordStart: true,
    wordEnd: false,
    anchors: ['error', 'fatal', 'panic'],
    examples: [
      'src/main.c:12:5: error: expected ";" before "}" token',
      'error[E0308]: mismatched types',
      'fatal: could not read Username for https://github.com',
      'panic: runtime error: index out of range [3] with length 3',
    ],
  },
  {
    id: 'severity-word',
    description: 'upper-case severity and status words (ERROR, FATAL, FAIL, FAILED, BUILD FAILURE, …)',
    body: 'ERROR|ERR!|FATAL|FAIL|FAILED|FAILURE|CRITICAL|PANIC',
    wordStart: true,
    wordEnd: true,
    anchors: ['ERROR', 'ERR!', 'FATAL', 'FAIL', 'CRITICAL', 'PANIC'],
    examples: [
      '[ERROR] Failed to execute goal org.apache.maven.plugins:maven-compiler-plugin',
      '[INFO] BUILD FAILURE',
      'FAIL src/widget.test.ts',
      '--- FAIL: TestParse (0.00s)',
      '[Container] 2024/05/01 12:00:00.000000 Phase complete: BUILD State: FAILED',
    ],
  },
  {
    id: 'test-failures',
    description: 'test runner summaries with a non-zero failure count',
    lead: '[1-9][0-9]*',
    body: ' (failed|failing)',
    wordStart: true,
    wordEnd: true,
    anchors: [' fail'],
    examples: [
      'Tests:       2 failed, 40 passed, 42 total',
      '  3 failing',
      '==== 1 failed, 9 passed in 2.31s ====',
    ],
  },
  {
    id: 'crash',
    description: 'crashes and resource exhaustion',
    body: 'Segmentation fault|core dumped|(Out|out) of memory|OOMKilled',
    wordStart: false,
    wordEnd: false,
    anchors: ['Segmentation fault', 'core dumped', 'ut of memory', 'OOMKilled'],
    examples: [
      'FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory',
      'Segmentation fault (core dumped)',
      'Reason: OOMKilled',
    ],
  },
];

function ereAlternative(trigger: FailureTrigger): string {
  const start = trigger.wordStart ? `(^|[^${WORD_CLASS}])` : '';
  const end = trigger.wordEnd ? `([^${WORD_CLASS}]|$)` : '';
  return `${start}${trigger.lead ?? ''}(${trigger.body})${end}`;
}

function jsAlternative(trigger: FailureTrigger): string {
  const body = `(?:${trigger.body})`;
  const start = trigger.wordStart ? `(?:^|[^${WORD_CLASS}])` : '';
  const needsLookbehind = trigger.wordStart || trigger.lead !== undefined;
  const lookbehind = needsLookbehind ? `(?<=${start}${trigger.lead ?? ''}${body})` : '';
  const lookahead = trigger.wordEnd ? `(?![${WORD_CLASS}])` : '';
  return `${body}${lookbehind}${lookahead}`;
}

/** One trigger rendered both ways (used by the tests to compare them with grep, trigger by trigger). */
export function renderTrigger(trigger: FailureTrigger): { readonly js: string; readonly ere: string } {
  return { js: jsAlternative(trigger), ere: ereAlternative(trigger) };
}

/** All triggers as one POSIX ERE, for `grep -E` (the benchmark hands exactly this to grep). */
export const FAILURE_PATTERN_ERE: string = FAILURE_TRIGGERS.map(ereAlternative).join('|');

/** All triggers as one JavaScript pattern source, accepting exactly the lines {@link FAILURE_PATTERN_ERE} accepts. */
export const FAILURE_PATTERN_JS: string = FAILURE_TRIGGERS.map(jsAlternative).join('|');

const FAILURE_LINE = new RegExp(FAILURE_PATTERN_JS);

const TRIGGER_MATCHERS: ReadonlyArray<{ readonly id: string; readonly pattern: RegExp }> =
  FAILURE_TRIGGERS.map((trigger) => ({ id: trigger.id, pattern: new RegExp(jsAlternative(trigger)) }));

/** True when one line (no newline inside) matches a failure trigger. */
export function isFailureLine(line: string): boolean {
  return FAILURE_LINE.test(line);
}

/** The id of the first trigger (in table order) that matches `line`, or undefined. */
export function triggerOf(line: string): string | undefined {
  return TRIGGER_MATCHERS.find((matcher) => matcher.pattern.test(line))?.id;
}

/**
 * The anchors of all triggers, minus those that contain another anchor (a line holding the
 * longer one holds the shorter one too).
 */
export const FAILURE_ANCHORS: readonly string[] = (() => {
  const all = [...new Set(FAILURE_TRIGGERS.flatMap((trigger) => trigger.anchors))];
  return all.filter((anchor) => !all.some((other) => other !== anchor && anchor.includes(other)));
})();

/**
 * Finds the next occurrence of any of a set of ASCII literals in a Buffer: Wu–Manber with
 * two-byte blocks. It looks at one block per `minLength - 1` bytes in the common case, which
 * in the excerpt benchmark made finding candidate lines ~3× cheaper than one alternation regex
 * over the decoded text, and it works on raw bytes, so blocks are never decoded as a whole.
 */
export class AnchorFinder {
  private readonly minLength: number;
  private readonly shift: Uint8Array;
  private readonly byLastBlock: Array<Buffer[] | undefined>;

  /** @param anchors ASCII literals, each at least 2 bytes long. */
  constructor(anchors: readonly string[] = FAILURE_ANCHORS) {
    const literals = anchors.map((anchor) => Buffer.from(anchor, 'latin1'));
    if (literals.length === 0 || literals.some((literal) => literal.length < 2 || literal.length > 255)) {
      throw new RangeError('AnchorFinder needs literals of 2 to 255 bytes');
    }
    this.minLength = Math.min(...literals.map((literal) => literal.length));
    const defaultShift = this.minLength - 1;
    this.shift = new Uint8Array(65536).fill(defaultShift);
    this.byLastBlock = new Array<Buffer[] | undefined>(65536);
    for (const literal of literals) {
      for (let end = 1; end < this.minLength; end++) {
        const block = ((literal[end - 1] ?? 0) << 8) | (literal[end] ?? 0);
        this.shift[block] = Math.min(this.shift[block] ?? defaultShift, this.minLength - 1 - end);
      }
      const last = ((literal[this.minLength - 2] ?? 0) << 8) | (literal[this.minLength - 1] ?? 0);
      (this.byLastBlock[last] ??= []).push(literal);
    }
  }

  /** Start offset of the first literal found in `buf[from, to)`, or -1. */
  find(buf: Uint8Array, from: number, to: number): number {
    const { shift, byLastBlock, minLength } = this;
    let position = from + minLength - 1;
    while (position < to) {
      const block = ((buf[position - 1] as number) << 8) | (buf[position] as number);
      const step = shift[block] as number;
      if (step !== 0) {
        position += step;
        continue;
      }
      const start = position - minLength + 1;
      for (const literal of byLastBlock[block] ?? []) {
        if (start + literal.length > to) continue;
        let index = 0;
        while (index < literal.length && buf[start + index] === literal[index]) index++;
        if (index === literal.length) return start;
      }
      position++;
    }
    return -1;
  }
}
