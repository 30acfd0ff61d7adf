/**
 * Terminal escapes and control characters out of log text: colour codes would split tokens
 * (and a secret split by one would slip past redaction), and bells or backspaces would garble a
 * notification. One helper for the log tail, the excerpt and the classifier.
 *
 * `node:util`'s `stripVTControlCharacters` is not used: it also takes U+009B as an 8-bit CSI
 * introducer, and the excerpt strips escapes from the latin1 view of UTF-8 bytes, where 0x9B is
 * a continuation byte (`ě` is C4 9B): it would eat characters. It also removes sequences these
 * logs have always kept (`ESC ( B` from `tput sgr0` leaves `(B` here), so the excerpts, the
 * classifier's matched lines and the stored tails would change.
 */

// CSI (colours, cursor moves), OSC (titles, hyperlinks; up to BEL, ST, the next escape or the
// end of the line) and two-byte escapes.
// eslint-disable-next-line no-control-regex -- terminal escapes are control characters by definition.
const TERMINAL_ESCAPES = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b\n]*(?:\x07|\x1b\\)?|[@-Z\\-_])/g;
// C0 controls and DEL, except tab, line feed and carriage return.
// eslint-disable-next-line no-control-regex -- removing control characters is the point.
const CONTROL_CHARACTERS = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g;
// The same, carriage return included.
// eslint-disable-next-line no-control-regex -- removing control characters is the point.
const CONTROL_CHARACTERS_AND_CR = /[\x00-\x08\x0b-\x1f\x7f]/g;
const ESC = '\x1b';

/** `text` without terminal escape sequences (control characters other than ESC stay). */
export function stripTerminalEscapes(text: string): string {
  return text.includes(ESC) ? text.replace(TERMINAL_ESCAPES, '') : text;
}

/**
 * `text` without C0 control characters and DEL; tab and line feed stay, and carriage return
 * too unless `carriageReturn` is `'remove'` (the excerpt resolves CR overwrites before).
 */
export function stripControlCharacters(text: string, carriageReturn: 'keep' | 'remove' = 'keep'): string {
  return text.replace(carriageReturn === 'keep' ? CONTROL_CHARACTERS : CONTROL_CHARACTERS_AND_CR, '');
}

/** Terminal escapes first, then the remaining control characters (CR kept). */
export function stripTerminalControls(text: string): string {
  return stripControlCharacters(stripTerminalEscapes(text));
}
