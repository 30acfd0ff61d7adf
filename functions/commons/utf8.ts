/**
 * UTF-8 byte budgets (Step Functions state, SNS bodies, prompts count bytes, not characters):
 * cuts that never split a character. Node has no built-in for this.
 */

const isContinuation = (byte: number | undefined): boolean => ((byte ?? 0) & 0xc0) === 0x80;

/** The first at most `maxBytes` UTF-8 bytes of `text`, never splitting a character. */
export function utf8Head(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  let cut = Math.max(0, maxBytes);
  while (cut > 0 && isContinuation(bytes[cut])) cut--;
  return bytes.toString('utf8', 0, cut);
}

/** The last at most `maxBytes` UTF-8 bytes of `text`, never splitting a character. */
export function utf8Tail(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  let start = bytes.length - Math.max(0, maxBytes);
  while (start < bytes.length && isContinuation(bytes[start])) start++;
  return bytes.toString('utf8', start);
}

/**
 * `text` when it fits in `maxBytes` UTF-8 bytes; else its head, cut to leave room for `marker`,
 * then `marker` (e.g. `…`).
 */
export function truncateUtf8(text: string, maxBytes: number, marker = ''): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  return `${utf8Head(text, Math.max(0, maxBytes - Buffer.byteLength(marker, 'utf8')))}${marker}`;
}
