import fc from 'fast-check';
import {
  stripControlCharacters,
  stripTerminalEscapes,
  stripTerminalControls,
} from '../../functions/commons/terminal';

// The three strippers this module replaced, verbatim: the collect-evidence log tail, the
// excerpt (on the latin1 view, then control characters after UTF-8 decoding) and the classifier.
/* eslint-disable no-control-regex */
const OLD_LOG_TAIL = (message: string) =>
  message
    .replace(/\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b\n]*(?:\x07|\x1b\\)?|[@-Z\\-_])/g, '')
    .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g, '');
const OLD_EXCERPT_ESCAPES = (text: string) =>
  text.includes('\x1b')
    ? text.replace(/\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b\n]*(?:\x07|\x1b\\)?|[@-Z\\-_])/g, '')
    : text;
const OLD_EXCERPT_CONTROLS = (text: string) => text.replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '');
const OLD_CLASSIFY = (text: string) =>
  text.replace(/\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]/g, '');
/* eslint-enable no-control-regex */

/** Pieces real build logs are made of: text, colour codes, titles, hyperlinks, controls. */
const logPiece = (bareEscape: boolean) =>
  fc.oneof(
    fc.string({ maxLength: 12 }),
    fc.constantFrom('ok', 'ERROR', 'ě', '✓', '日本', '\t', '\n', '\r', '\r\n'),
    fc
      .tuple(
        fc.array(fc.integer({ min: 0, max: 107 }), { maxLength: 3 }),
        fc.constantFrom('m', 'K', 'G', 'H', 'J'),
      )
      .map(([codes, end]) => `\x1b[${codes.join(';')}${end}`),
    fc
      .tuple(fc.stringMatching(/^[ -~]{0,16}$/), fc.constantFrom('\x07', '\x1b\\'))
      .map(([title, end]) => `\x1b]0;${title}${end}`),
    fc.webUrl().map((url) => `\x1b]8;;${url}\x1b\\link\x1b]8;;\x1b\\`),
    fc.constantFrom('\x1b7', '\x1b8', '\x1bM', '\x1b(B', '\x1b[m', '\x07', '\x08', '\x00', '\x7f', '\x0c'),
    // A bare ESC before `]` opens a title that never ends; well-formed logs have none.
    fc.constant(bareEscape ? '\x1b' : '\x1b[0m'),
  );
const logText = fc.array(logPiece(true), { maxLength: 20 }).map((pieces) => pieces.join(''));
const wellFormedLogText = fc.array(logPiece(false), { maxLength: 20 }).map((pieces) => pieces.join(''));
/** Any string over the characters the patterns care about. */
const anyText = fc.string({
  unit: fc.constantFrom(
    '\x1b',
    '[',
    ']',
    '\\',
    '\x07',
    '\n',
    '\r',
    '\t',
    '\x00',
    '\x7f',
    '0',
    ';',
    'm',
    'a',
    '(',
    'B',
    'ě',
  ),
  maxLength: 40,
});

describe('the terminal-control stripper (functions/commons/terminal.ts)', () => {
  it('cleans a log line as the log tail did, on any text', () => {
    fc.assert(
      fc.property(fc.oneof(logText, anyText), (text) => {
        expect(stripTerminalControls(text)).toBe(OLD_LOG_TAIL(text));
      }),
      { numRuns: 2000 },
    );
  });

  it('strips escapes and then controls as the excerpt did, on any text', () => {
    fc.assert(
      fc.property(fc.oneof(logText, anyText), (text) => {
        expect(stripTerminalEscapes(text)).toBe(OLD_EXCERPT_ESCAPES(text));
        expect(stripControlCharacters(text, 'remove')).toBe(OLD_EXCERPT_CONTROLS(text));
      }),
      { numRuns: 2000 },
    );
  });

  it('strips escapes as the classifier did on logs whose titles and hyperlinks end on their line', () => {
    fc.assert(
      fc.property(wellFormedLogText, (text) => {
        expect(stripTerminalEscapes(text)).toBe(OLD_CLASSIFY(text));
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps every line of a log with an unterminated title, where the classifier dropped lines', () => {
    // Prepare: an OSC without its terminator, then two lines and a stray bell.
    const log = '\x1b]0;build\nerror: cannot find module\nnext\x07 line';

    // Act
    const stripped = stripTerminalEscapes(log);

    // Assess: the old classifier pattern ran to the bell and swallowed the error line.
    expect(OLD_CLASSIFY(log)).toBe(' line');
    expect(stripped).toBe('\nerror: cannot find module\nnext\x07 line');
  });

  it('leaves UTF-8 bytes in their latin1 view intact (0x9B is a continuation byte, not a CSI)', () => {
    // Prepare
    const latin1 = Buffer.from('\x1b[31mě\x1b[0m', 'utf8').toString('latin1');

    // Act
    const stripped = Buffer.from(stripTerminalEscapes(latin1), 'latin1').toString('utf8');

    // Assess
    expect(stripped).toBe('ě');
  });
});
