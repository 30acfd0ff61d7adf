import fc from 'fast-check';
import { TASK_TOKEN_PLACEHOLDER, withoutTaskToken } from '../../functions/commons/approval/token';
import { truncateUtf8, utf8Head, utf8Tail } from '../../functions/commons/utf8';

// The cuts these helpers stand for, as written before: collect-evidence's truncateBytes, the
// excerpt's truncateUtf8, and the plan prompt's head and tail.
const OLD_TRUNCATE_BYTES = (text: string, maxBytes: number): string => {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  const bytes = Buffer.from(text);
  let cut = Math.max(0, maxBytes - 3);
  while (cut > 0 && ((bytes[cut] ?? 0) & 0xc0) === 0x80) cut--;
  return `${bytes.toString('utf8', 0, cut)}…`;
};
const OLD_EXCERPT_TRUNCATE = (text: string, maxBytes: number): string => {
  const bytes = Buffer.from(text);
  if (bytes.length <= maxBytes) return text;
  let cut = Math.max(0, maxBytes);
  while (cut > 0 && ((bytes[cut] ?? 0) & 0xc0) === 0x80) cut--;
  return bytes.toString('utf8', 0, cut);
};
const OLD_PROMPT_HEAD = (text: string, maxBytes: number): string =>
  Buffer.from(text, 'utf8')
    .subarray(0, maxBytes)
    .toString('utf8')
    .replace(/\uFFFD+$/, '');
const OLD_PROMPT_TAIL = (text: string, maxBytes: number): string => {
  const bytes = Buffer.from(text, 'utf8');
  return bytes
    .subarray(Math.max(0, bytes.length - maxBytes))
    .toString('utf8')
    .replace(/^\uFFFD+/, '');
};

/** Text mixing 1- to 4-byte characters (no U+FFFD, which the prompt's cuts treated as a cut mark). */
const text = fc.string({
  unit: fc.constantFrom('a', 'Z', ' ', '\n', 'é', 'ě', '€', '日', '😀', '𝄞'),
  maxLength: 40,
});
const budget = fc.integer({ min: 0, max: 120 });

describe('UTF-8 cuts (functions/commons/utf8.ts)', () => {
  it('cut as the four helpers they replace did, never splitting a character', () => {
    fc.assert(
      fc.property(text, budget, (value, maxBytes) => {
        expect(truncateUtf8(value, maxBytes, '…')).toBe(OLD_TRUNCATE_BYTES(value, maxBytes));
        expect(utf8Head(value, maxBytes)).toBe(OLD_EXCERPT_TRUNCATE(value, maxBytes));
        expect(utf8Head(value, maxBytes)).toBe(OLD_PROMPT_HEAD(value, maxBytes));
        expect(utf8Tail(value, maxBytes)).toBe(OLD_PROMPT_TAIL(value, maxBytes));
        expect(Buffer.byteLength(utf8Head(value, maxBytes))).toBeLessThanOrEqual(maxBytes);
        expect(value.startsWith(utf8Head(value, maxBytes))).toBe(true);
        expect(value.endsWith(utf8Tail(value, maxBytes))).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('backs off to a character boundary', () => {
    // '€' is 3 bytes: 4 bytes of 'a€€' hold 'a€' and the first byte of the second '€'.
    expect(utf8Head('a€€', 5)).toBe('a€');
    expect(utf8Tail('€€a', 5)).toBe('€a');
    expect(truncateUtf8('€€€', 8, '…')).toBe('€…');
  });
});

describe('withoutTaskToken (functions/commons/approval/token.ts)', () => {
  const token = 'AQCEAAAAKgAAAAMAAAAA"quoted"\\back/slash+Zm9vYmFy==';

  it('replaces the token in a string and in every string of a JSON value, escaped or not', () => {
    // Act
    const message = withoutTaskToken(`Task Token ${token} is invalid (${token})`, token);
    const state = withoutTaskToken({ a: [token, { b: `x${token}y` }], n: 1 }, token);

    // Assess
    expect(message).toBe(`Task Token ${TASK_TOKEN_PLACEHOLDER} is invalid (${TASK_TOKEN_PLACEHOLDER})`);
    expect(state).toEqual({ a: [TASK_TOKEN_PLACEHOLDER, { b: `x${TASK_TOKEN_PLACEHOLDER}y` }], n: 1 });
    expect(JSON.stringify(state)).not.toContain('quoted');
  });

  it('leaves everything as it is for an empty token', () => {
    expect(withoutTaskToken('nothing to hide', '')).toBe('nothing to hide');
  });
});
