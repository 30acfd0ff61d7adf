import fc from 'fast-check';

import { DEFAULT_SIGNATURE_SET, classifyLog } from '../../functions/commons/classify';
import { MIN_LITERAL, requiredLiterals } from '../../functions/commons/classify/prefilter';

describe('requiredLiterals', () => {
  it.each([
    ['one literal run, the longest wins', 'Error: foo \\d+ happened here', '', [' happened here']],
    [
      'one literal per top-level alternative',
      'ECONNRESET|socket hang up',
      '',
      ['ECONNRESET', 'socket hang up'],
    ],
    [
      'escaped punctuation is literal',
      'Template format error\\. \\(x\\)',
      '',
      ['Template format error. (x)'],
    ],
    ['a quantified character ends the run before it', 'abcdef?ghi', '', ['abcde']],
    [
      'a mandatory group is read when the run is too short',
      '\\b(?:ENOENT|EACCES)\\b',
      '',
      ['ENOENT', 'EACCES'],
    ],
    ['the i flag lower-cases the literals', 'Rate Exceeded', 'i', ['rate exceeded']],
    ['hex escapes are not literal digits', '\\x41BCD|\\u0041xyz', '', ['BCD', 'xyz']],
  ] as const)('%s', (_name, pattern, flags, expected) => {
    expect(requiredLiterals(pattern, flags)).toEqual(expected);
  });

  it.each([
    ['an alternative without a literal', 'ECONNRESET|\\d+ \\w+'],
    ['an optional group as the only literal', '(?:Error: )?\\d+'],
    ['a lookaround group', '(?<=code )\\d+'],
    ['unbalanced parentheses', 'abc)def|ghi'],
    ['i and u together (case folding outside toLowerCase)', 'strasse'],
  ])('gives no prefilter for %s', (_name, pattern) => {
    const flags = pattern === 'strasse' ? 'iu' : '';
    expect(requiredLiterals(pattern, flags)).toBeUndefined();
  });

  it('never rejects a text the pattern matches (generated patterns)', () => {
    // Prepare: a pattern built from tokens, and a text built from the same tokens.
    const word = fc.stringMatching(/^[a-zA-Z ]{1,6}$/);
    const token = fc.oneof(
      word.map((w) => ({ source: w, sample: fc.constant(w) })),
      fc.constant({ source: '\\d+', sample: fc.integer({ min: 0, max: 999 }).map(String) }),
      fc.tuple(word, word).map(([a, b]) => ({ source: `(?:${a}|${b})`, sample: fc.constantFrom(a, b) })),
      word.map((w) => ({ source: `${w}?`, sample: fc.constantFrom(w, w.slice(0, -1)) })),
      fc.constant({ source: '[xyz]', sample: fc.constantFrom('x', 'y', 'z') }),
      fc.constant({ source: '\\.', sample: fc.constant('.') }),
      fc.constant({ source: '.{0,3}', sample: fc.stringMatching(/^[a-z]{0,3}$/) }),
    );
    const alternative = fc.array(token, { minLength: 1, maxLength: 5 });
    const scenario = fc
      .record({
        alternatives: fc.array(alternative, { minLength: 1, maxLength: 3 }),
        flags: fc.constantFrom('', 'i'),
      })
      .chain(({ alternatives, flags }) =>
        fc.record({
          pattern: fc.constant(alternatives.map((alt) => alt.map((t) => t.source).join('')).join('|')),
          flags: fc.constant(flags),
          text: fc
            .nat({ max: alternatives.length - 1 })
            .chain((pick) => fc.tuple(...(alternatives[pick] ?? []).map((t) => t.sample)))
            .map((parts) => parts.join('')),
          around: fc.tuple(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 })),
        }),
      );

    // Act and assess
    fc.assert(
      fc.property(scenario, ({ pattern, flags, text, around }) => {
        const full = `${around[0]}${flags === 'i' ? text.toUpperCase() : text}${around[1]}`;
        if (!new RegExp(pattern, flags).test(full)) return; // the generator's sample is always a match, but be safe
        const literals = requiredLiterals(pattern, flags);
        if (literals === undefined) return;
        const haystack = flags === 'i' ? full.toLowerCase() : full;
        expect(literals.some((literal) => haystack.includes(literal))).toBe(true);
        for (const literal of literals) expect(literal.length).toBeGreaterThanOrEqual(MIN_LITERAL);
      }),
      { numRuns: 500 },
    );
  });
});

describe('prefilter on the bundled signatures', () => {
  it('has a prefilter for most signatures', () => {
    const withLiterals = DEFAULT_SIGNATURE_SET.signatures.filter((s) => s.literals !== undefined).length;
    expect(withLiterals / DEFAULT_SIGNATURE_SET.signatures.length).toBeGreaterThan(0.9);
  });

  it('gives the same answer as running every regex', () => {
    // Prepare: the bundled set without prefilters, and logs that hit many signatures.
    const unfiltered = {
      ...DEFAULT_SIGNATURE_SET,
      signatures: DEFAULT_SIGNATURE_SET.signatures.map(
        ({ literals: _l, literalsLowerCase: _c, ...rest }) => rest,
      ),
    };
    const logs = [
      'An error occurred (AccessDenied) when calling the PutObject operation: Access Denied',
      'npm ERR! code ECONNRESET\nnpm ERR! network request to https://registry.npmjs.org failed',
      'TOOMANYREQUESTS: You have reached your pull rate limit',
      'UPDATE_ROLLBACK_COMPLETE\nResource handler returned message: "Rate Exceeded (Service: Lambda)"',
      '[ERROR] Tests run: 3, Failures: 1, Errors: 0, Skipped: 0',
      "│ Error: waiting for EKS Cluster (x) create: timeout while waiting for state to become 'ACTIVE'",
      'src/app.ts(3,5): error TS2322: Type string is not assignable to type number.',
      'JavaScript heap out of memory',
    ];

    // Act and assess
    for (const log of logs) expect(classifyLog(log)).toEqual(classifyLog(log, { signatureSet: unfiltered }));
  });
});
