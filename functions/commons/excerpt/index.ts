/**
 * Failure excerpt extraction for build logs of any size.
 *
 * The scanner never holds a whole log: it works on the chunks as they arrive, keeps references
 * to the last few chunks (for "context before" and the log tail), the failure regions found so
 * far (trimmed to the byte cap as it goes) and at most one partial line (itself capped). Memory
 * is therefore bounded by the chunk size plus a few times the cap, whatever the input size.
 *
 * Speed: lines are not visited one by one and blocks are never decoded as a whole. The trigger
 * anchors (see ./patterns) are searched on the raw bytes with a multi-literal skip search; only
 * a line holding an anchor is decoded, stripped of ANSI escapes and tested with the full
 * trigger pattern, and only the lines around a failure are sliced out. Newlines are counted
 * with `Buffer.indexOf`, which is native. Blocks are decoded as latin1 (one byte = one char, so
 * offsets are byte offsets and the ASCII patterns match exactly); kept lines are re-decoded as
 * UTF-8. An escape sequence in the middle of an anchor word (never seen in real logs) would hide
 * that trigger.
 */
import { stripControlCharacters, stripTerminalEscapes } from '../terminal';
import { utf8Head } from '../utf8';
import { AnchorFinder, isFailureLine, triggerOf } from './patterns';

export {
  FAILURE_ANCHORS,
  FAILURE_PATTERN_ERE,
  FAILURE_PATTERN_JS,
  FAILURE_TRIGGERS,
  triggerOf,
} from './patterns';

/** Tuning knobs for {@link extractExcerpt}; every field is optional. */
export interface ExcerptOptions {
  /** Lines kept before each failure line. @default 8 */
  readonly contextBefore?: number;
  /** Lines kept after each failure line. @default 12 */
  readonly contextAfter?: number;
  /** Last lines of the log that are always kept: the real error is often at the very end. @default 40 */
  readonly tailLines?: number;
  /** Upper bound of the excerpt, in UTF-8 bytes. @default 16384 */
  readonly maxBytes?: number;
  /** Longer lines are cut to this many bytes (as they stream, so a 1 GiB line costs nothing). @default 8192 */
  readonly maxLineBytes?: number;
  /** Prefix kept lines with their line number (`123 | text`). @default true */
  readonly lineNumbers?: boolean;
}

/** A failing region that made it into the excerpt (line numbers are 1-based, inclusive). */
export interface ExcerptRegion {
  /** First line of the region shown in the excerpt. */
  readonly startLine: number;
  /** Last line of the region shown in the excerpt. */
  readonly endLine: number;
  /** Id of the trigger (see FAILURE_TRIGGERS) of the region's first failure line. */
  readonly trigger: string;
  /** Line number of that first failure line. */
  readonly triggerLine: number;
}

/** What {@link extractExcerpt} returns. */
export interface ExcerptResult {
  /** The excerpt text, at most `maxBytes` UTF-8 bytes, without a trailing newline. */
  readonly excerpt: string;
  /** True when failure context or tail lines were left out to respect `maxBytes` (cutting a long line does not count). */
  readonly truncated: boolean;
  /** Lines in the whole input (a last line without a newline counts). */
  readonly totalLines: number;
  /** Bytes in the whole input. */
  readonly totalBytes: number;
  /** Failing regions present in the excerpt, in log order. */
  readonly regions: readonly ExcerptRegion[];
  /** Failing regions found but left out entirely because of the cap (the earliest ones). */
  readonly omittedRegions: number;
}

const DEFAULTS = {
  contextBefore: 8,
  contextAfter: 12,
  tailLines: 40,
  maxBytes: 16 * 1024,
  maxLineBytes: 8 * 1024,
  lineNumbers: true,
} as const;

type ResolvedOptions = { -readonly [K in keyof ExcerptOptions]-?: NonNullable<ExcerptOptions[K]> };

function resolveOptions(options: ExcerptOptions): ResolvedOptions {
  const resolved = { ...DEFAULTS, ...stripUndefined(options) };
  for (const key of ['contextBefore', 'contextAfter', 'tailLines', 'maxBytes', 'maxLineBytes'] as const) {
    const value = resolved[key];
    if (!Number.isInteger(value) || value < 0) {
      throw new RangeError(`excerpt option ${key} must be a non-negative integer, got ${String(value)}`);
    }
  }
  if (resolved.maxLineBytes < 16) throw new RangeError('excerpt option maxLineBytes must be at least 16');
  return resolved;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Bytes a collapsed "… repeated N more times" line costs, an upper bound used for budgeting. */
const REPEAT_LINE_BYTES = 48;
/** Upper bound of a rendered "… lines a–b omitted" line. */
const GAP_LINE_BYTES = 48;
/** Bytes kept around a long line's segment boundary so a trigger split by it is still seen. */
const SEGMENT_OVERLAP = 256;

interface Entry {
  readonly line: number;
  readonly text: string;
  repeats: number;
  bytes: number;
}

interface Region {
  startLine: number;
  lastLine: number;
  endTarget: number;
  readonly trigger: string;
  readonly triggerLine: number;
  readonly entries: Entry[];
  /** Index of the first entry still retained (entries before it were trimmed by the cap). */
  head: number;
  bytes: number;
  /** Offset in the current block of line `lastLine + 1`, valid when `cursorBlock` is the current block. */
  cursor: number;
  cursorBlock: number;
}

/** A block of complete lines: `buf[start, end)`, each line ending in '\n'. */
interface Block {
  readonly buf: Buffer;
  readonly start: number;
  readonly end: number;
  /** Number of the block's first line. */
  readonly first: number;
}

/** Index of the last '\n' in `buf[floor, from]`, or `floor - 1` when there is none. */
function previousNewline(buf: Buffer, from: number, floor: number): number {
  // Buffer.lastIndexOf treats a negative offset as counted from the end: never pass one.
  if (from < floor) return floor - 1;
  const index = buf.lastIndexOf(10, from);
  return index < floor ? floor - 1 : index;
}

/**
 * The streaming state machine behind {@link extractExcerpt}. Feed it Buffers with `push`, then
 * call `finish` once. Exposed for callers that already own a read loop.
 *
 * Chunks are referenced, not copied, for as long as their lines may still be needed as context
 * (at most a few chunks): do not reuse a Buffer after pushing it, as Node streams never do.
 */
export class ExcerptScanner {
  private readonly options: ResolvedOptions;
  private readonly anchors = new AnchorFinder();
  private readonly ringSize: number;
  /** The last blocks, enough of them to hold `ringSize` lines: before-context and the tail come from here. */
  private recent: Array<Block & { readonly last: number }> = [];
  private linesDone = 0;
  private bytesSeen = 0;
  private blockId = 0;
  /** Closed regions, oldest first; slots before `closedHead` were dropped by the cap. */
  private readonly closed: Array<Region | undefined> = [];
  private closedHead = 0;
  private open: Region | undefined;
  private lastRegionLine = 0;
  private retainedBytes = 0;
  private droppedForCap = false;
  private omitted = 0;
  private carry: Buffer[] = [];
  private carryBytes = 0;
  private longLine: { overlap: Buffer; trigger: string | undefined } | undefined;
  private finished = false;

  /** @param options see {@link ExcerptOptions}; invalid numbers throw a RangeError. */
  constructor(options: ExcerptOptions = {}) {
    this.options = resolveOptions(options);
    this.ringSize = Math.max(this.options.contextBefore, this.options.tailLines, 1);
  }

  /** Consume the next chunk of the log. */
  push(chunk: Buffer): void {
    if (this.finished) throw new Error('ExcerptScanner.push after finish');
    this.bytesSeen += chunk.length;
    let start = 0;
    if (this.carryBytes > 0 || this.longLine) {
      const newline = chunk.indexOf(10);
      if (newline === -1) {
        this.appendCarry(chunk);
        return;
      }
      this.appendCarry(chunk.subarray(0, newline + 1));
      this.flushCarry();
      start = newline + 1;
    }
    const lastNewline = chunk.lastIndexOf(10);
    if (lastNewline >= start) {
      this.processBlock(chunk, start, lastNewline + 1, undefined);
      start = lastNewline + 1;
    }
    if (start < chunk.length) this.appendCarry(chunk.subarray(start));
  }

  /** End of input: returns the excerpt. */
  finish(): ExcerptResult {
    if (this.finished) throw new Error('ExcerptScanner.finish called twice');
    if (this.carryBytes > 0 || this.longLine) {
      this.appendCarry(Buffer.from('\n'));
      this.flushCarry();
    }
    this.finished = true;
    if (this.open) this.closeOpen();
    return this.assemble();
  }

  // ---- partial lines -------------------------------------------------------------------------

  /** Collect a line that is not complete yet; past `maxLineBytes`, only scan it for triggers. */
  private appendCarry(piece: Buffer): void {
    const { maxLineBytes } = this.options;
    if (!this.longLine) {
      // One byte over the limit is kept so cleanLine() sees that the line was cut and says so.
      const room = maxLineBytes + 1 - this.carryBytes;
      if (piece.length <= room) {
        this.carry.push(Buffer.from(piece));
        this.carryBytes += piece.length;
        return;
      }
      this.carry.push(Buffer.from(piece.subarray(0, room)));
      this.carryBytes += room;
      const head = Buffer.concat(this.carry);
      this.longLine = { overlap: Buffer.from(head.subarray(-SEGMENT_OVERLAP)), trigger: undefined };
      piece = piece.subarray(room);
    }
    const state = this.longLine;
    if (!state) return;
    const endsLine = piece[piece.length - 1] === 10;
    const body = endsLine ? piece.subarray(0, piece.length - 1) : piece;
    if (state.trigger === undefined && body.length > 0) {
      const segment = Buffer.concat([state.overlap, body]);
      state.trigger = this.findTriggerIn(segment);
      state.overlap = Buffer.from(segment.subarray(-SEGMENT_OVERLAP));
    }
    if (endsLine) this.carry.push(Buffer.from('\n'));
  }

  /** Trigger id of the first failure found in a segment of a long line, judged on a window around it. */
  private findTriggerIn(segment: Buffer): string | undefined {
    for (let hit = this.anchors.find(segment, 0, segment.length); hit !== -1;) {
      const from = Math.max(0, hit - SEGMENT_OVERLAP);
      const window = stripTerminalEscapes(
        segment.toString('latin1', from, Math.min(segment.length, hit + SEGMENT_OVERLAP)),
      );
      const trigger = triggerOf(window);
      if (trigger !== undefined) return trigger;
      hit = this.anchors.find(segment, hit + 1, segment.length);
    }
    return undefined;
  }

  private flushCarry(): void {
    let joined = Buffer.concat(this.carry);
    if (joined[joined.length - 1] !== 10) joined = Buffer.concat([joined, Buffer.from('\n')]);
    const forced = this.longLine?.trigger;
    this.carry = [];
    this.carryBytes = 0;
    this.longLine = undefined;
    this.processBlock(joined, 0, joined.length, forced);
  }

  // ---- blocks of complete lines --------------------------------------------------------------

  private processBlock(buf: Buffer, start: number, end: number, forcedTrigger: string | undefined): void {
    this.blockId++;
    const block: Block = { buf, start, end, first: this.linesDone + 1 };
    let countFrom = start;
    let line = block.first;
    let matched = false;
    for (let position = start; position < end;) {
      const hit = this.anchors.find(buf, position, end);
      if (hit === -1) break;
      const lineStart = previousNewline(buf, hit, start) + 1;
      const lineEnd = buf.indexOf(10, hit);
      for (
        let newline = buf.indexOf(10, countFrom);
        newline < lineStart;
        newline = buf.indexOf(10, countFrom)
      ) {
        line++;
        countFrom = newline + 1;
      }
      // Triggers are judged on the line as a reader sees it: escape sequences removed.
      if (isFailureLine(stripTerminalEscapes(buf.toString('latin1', lineStart, lineEnd)))) {
        this.onFailureLine(block, line, lineStart, lineEnd, undefined);
        matched = true;
      }
      position = lineEnd + 1;
    }
    if (!matched && forcedTrigger !== undefined) {
      this.onFailureLine(block, block.first, start, buf.indexOf(10, start), forcedTrigger);
    }
    for (
      let newline = buf.indexOf(10, countFrom);
      newline !== -1 && newline < end;
      newline = buf.indexOf(10, newline + 1)
    ) {
      line++;
    }
    const lastLine = line - 1;
    if (this.open) this.fill(this.open, Math.min(this.open.endTarget, lastLine), block);
    this.remember(block, lastLine);
    this.linesDone = lastLine;
    if (this.retainedBytes > this.options.maxBytes) this.trimToCap();
  }

  private onFailureLine(
    block: Block,
    line: number,
    lineStart: number,
    lineEnd: number,
    forcedTrigger: string | undefined,
  ): void {
    const { contextBefore, contextAfter } = this.options;
    const rawLine = block.buf.toString('latin1', lineStart, lineEnd);
    const open = this.open;
    if (open && line - contextBefore <= open.endTarget + 1) {
      this.fill(open, line - 1, block);
      this.append(open, line, rawLine);
      open.endTarget = Math.max(open.endTarget, line + contextAfter);
      open.cursor = lineEnd + 1;
      open.cursorBlock = this.blockId;
      return;
    }
    if (open) {
      this.fill(open, open.endTarget, block);
      this.closeOpen();
    }
    const startLine = Math.max(1, line - contextBefore, this.lastRegionLine + 1);
    const region: Region = {
      startLine,
      lastLine: startLine - 1,
      endTarget: line + contextAfter,
      trigger: forcedTrigger ?? triggerOf(stripTerminalEscapes(rawLine)) ?? 'unknown',
      triggerLine: line,
      entries: [],
      head: 0,
      bytes: 0,
      cursor: 0,
      cursorBlock: -1,
    };
    for (const [number, text] of this.linesBefore(block, line, lineStart, startLine)) {
      this.append(region, number, text);
    }
    this.append(region, line, rawLine);
    region.cursor = lineEnd + 1;
    region.cursorBlock = this.blockId;
    this.open = region;
  }

  /** Lines `from … line-1`, read backwards from `lineStart` in the block and then from recent blocks. */
  private linesBefore(block: Block, line: number, lineStart: number, from: number): Array<[number, string]> {
    const result: Array<[number, string]> = [];
    let end = lineStart - 1;
    for (let number = line - 1; number >= from; number--) {
      if (number >= block.first) {
        const start = previousNewline(block.buf, end - 1, block.start) + 1;
        result.push([number, block.buf.toString('latin1', start, end)]);
        end = start - 1;
      } else {
        const text = this.recentLine(number);
        if (text === undefined) break;
        result.push([number, text]);
      }
    }
    return result.reverse();
  }

  /** Append lines `region.lastLine+1 … toLine` to the region. */
  private fill(region: Region, toLine: number, block: Block): void {
    for (let number = region.lastLine + 1; number <= toLine; number++) {
      if (number < block.first) {
        const text = this.recentLine(number);
        if (text !== undefined) this.append(region, number, text);
        else region.lastLine = number;
        continue;
      }
      if (region.cursorBlock !== this.blockId) {
        region.cursor = block.start;
        region.cursorBlock = this.blockId;
      }
      const newline = block.buf.indexOf(10, region.cursor);
      const end = newline === -1 || newline >= block.end ? block.end : newline;
      this.append(region, number, block.buf.toString('latin1', region.cursor, end));
      region.cursor = end + 1;
    }
  }

  /** `retained` false: the entry does not count against the streaming cap (the tail, at the end). */
  private append(region: Region, line: number, raw: string, retained = true): void {
    const text = this.cleanLine(raw);
    region.lastLine = line;
    const last = region.entries.length > region.head ? region.entries[region.entries.length - 1] : undefined;
    if (last && last.text === text && last.line + last.repeats + 1 === line) {
      last.repeats++;
      if (last.repeats === 1 && retained) this.addBytes(region, last, REPEAT_LINE_BYTES);
      return;
    }
    const entry: Entry = { line, text, repeats: 0, bytes: 0 };
    region.entries.push(entry);
    if (!retained) return;
    this.addBytes(region, entry, this.entryBytes(line, text));
    if (this.retainedBytes > 2 * this.options.maxBytes) this.trimToCap();
  }

  private addBytes(region: Region, entry: Entry, bytes: number): void {
    entry.bytes += bytes;
    region.bytes += bytes;
    this.retainedBytes += bytes;
  }

  private entryBytes(line: number, text: string): number {
    const prefix = this.options.lineNumbers ? String(line).length + 3 : 0;
    return prefix + Buffer.byteLength(text) + 1;
  }

  private closeOpen(): void {
    const region = this.open;
    if (!region) return;
    this.open = undefined;
    this.lastRegionLine = region.lastLine;
    this.closed.push(region);
  }

  /**
   * Drop the oldest retained lines while what is left still fills the cap: assembly prefers the
   * last regions, so the oldest can never be shown once later ones fill the budget.
   */
  private trimToCap(): void {
    const cap = this.options.maxBytes;
    const oldestFirst = [...this.retainedClosed(), ...(this.open ? [this.open] : [])];
    for (const region of oldestFirst) {
      if (this.retainedBytes - region.bytes >= cap && region !== this.open) {
        this.retainedBytes -= region.bytes;
        this.closed[this.closedHead] = undefined;
        this.closedHead++;
        this.omitted++;
        this.droppedForCap = true;
        continue;
      }
      while (region.head < region.entries.length) {
        const entry = region.entries[region.head];
        if (!entry || this.retainedBytes - entry.bytes < cap) break;
        this.retainedBytes -= entry.bytes;
        region.bytes -= entry.bytes;
        region.head++;
        this.droppedForCap = true;
      }
      if (region.head > 1024 && region.head * 2 > region.entries.length) {
        region.entries.splice(0, region.head);
        region.head = 0;
      }
      break;
    }
    if (this.closedHead > 1024 && this.closedHead * 2 > this.closed.length) {
      this.closed.splice(0, this.closedHead);
      this.closedHead = 0;
    }
  }

  private retainedClosed(): Region[] {
    return this.closed.slice(this.closedHead).filter((region): region is Region => region !== undefined);
  }

  /** Keep a reference to the block (no per-line work) and forget blocks no longer needed. */
  private remember(block: Block, last: number): void {
    if (last < block.first) return;
    this.recent.push({ ...block, last });
    while (this.recent.length > 1) {
      const oldest = this.recent[0];
      if (!oldest || last - oldest.last < this.ringSize) break;
      this.recent.shift();
    }
  }

  /** Raw text of an earlier line, if it is still among the recent blocks. */
  private recentLine(number: number): string | undefined {
    for (let index = this.recent.length - 1; index >= 0; index--) {
      const block = this.recent[index];
      if (!block || number > block.last) return undefined;
      if (number < block.first) continue;
      let end = block.end - 1;
      for (let skip = block.last - number; skip > 0; skip--)
        end = previousNewline(block.buf, end - 1, block.start);
      const start = previousNewline(block.buf, end - 1, block.start) + 1;
      return block.buf.toString('latin1', start, end);
    }
    return undefined;
  }

  /** Latin1 line text → what a reader sees: no escapes, no CR overwrites, no control bytes, cut, UTF-8. */
  private cleanLine(raw: string): string {
    let text = stripTerminalEscapes(raw);
    if (text.endsWith('\r')) text = text.slice(0, -1);
    const overwrite = text.lastIndexOf('\r');
    if (overwrite !== -1) text = text.slice(overwrite + 1);
    let cutBytes = 0;
    const { maxLineBytes } = this.options;
    if (text.length > maxLineBytes) {
      let cut = maxLineBytes;
      // Back off to the start of a UTF-8 sequence so the cut never leaves half a character.
      while (cut > 0 && (text.charCodeAt(cut) & 0xc0) === 0x80) cut--;
      cutBytes = text.length - cut;
      text = text.slice(0, cut);
    }
    let decoded = stripControlCharacters(Buffer.from(text, 'latin1').toString('utf8'), 'remove');
    if (cutBytes > 0) decoded += ` … [line cut at ${maxLineBytes} bytes]`;
    return decoded;
  }

  // ---- assembly ------------------------------------------------------------------------------

  private assemble(): ExcerptResult {
    const { tailLines, maxBytes, lineNumbers } = this.options;
    const totalLines = this.linesDone;
    const regions = this.retainedClosed();
    const lastRegionLine = regions.length > 0 ? (regions[regions.length - 1]?.lastLine ?? 0) : 0;
    const tailStart = Math.max(1, totalLines - tailLines + 1, lastRegionLine + 1);
    const tail: Region = {
      startLine: tailStart,
      lastLine: tailStart - 1,
      endTarget: totalLines,
      trigger: 'tail',
      triggerLine: 0,
      entries: [],
      head: 0,
      bytes: 0,
      cursor: 0,
      cursorBlock: -1,
    };
    for (let line = tailStart; line <= totalLines; line++) {
      const text = this.recentLine(line);
      if (text !== undefined) this.append(tail, line, text, false);
    }

    interface Picked {
      readonly entry: Entry;
      readonly region: Region;
      readonly text: string;
    }
    const ordered: Array<{ entry: Entry; region: Region }> = [];
    for (const region of [...regions, tail]) {
      for (let index = region.head; index < region.entries.length; index++) {
        const entry = region.entries[index];
        if (entry) ordered.push({ entry, region });
      }
    }

    const render = (entry: Entry, text: string): string[] => {
      const numbered = (line: number, body: string) => (lineNumbers ? `${line} | ${body}` : body);
      const lines = [numbered(entry.line, text)];
      if (entry.repeats === 1) lines.push(numbered(entry.line + 1, text));
      if (entry.repeats > 1) lines.push(`… repeated ${entry.repeats} more times`);
      return lines;
    };
    const bytesOf = (lines: readonly string[]) =>
      lines.reduce((sum, line) => sum + Buffer.byteLength(line) + 1, 0);

    // Walk from the end: the tail first, then the last failing regions, while the budget lasts.
    const picked: Picked[] = [];
    let used = 2 * GAP_LINE_BYTES; // reserve for a leading and a trailing "… lines a–b omitted"
    let next: Entry | undefined;
    let dropped = this.droppedForCap;
    for (let index = ordered.length - 1; index >= 0; index--) {
      const item = ordered[index];
      if (!item) continue;
      const gap = next && item.entry.line + item.entry.repeats + 1 < next.line ? GAP_LINE_BYTES : 0;
      const cost = bytesOf(render(item.entry, item.entry.text)) + gap;
      if (used + cost <= maxBytes) {
        picked.push({ entry: item.entry, region: item.region, text: item.entry.text });
        used += cost;
        next = item.entry;
        continue;
      }
      if (picked.length === 0) {
        const room = maxBytes - used - (lineNumbers ? String(item.entry.line).length + 4 : 1) - 4;
        if (room > 0) {
          const text = `${utf8Head(item.entry.text, room)}…`;
          picked.push({ entry: { ...item.entry, repeats: 0 }, region: item.region, text });
        }
      }
      dropped = true;
      break;
    }
    picked.reverse();

    const out: string[] = [];
    let previousEnd = 0;
    for (const { entry, text } of picked) {
      if (entry.line > previousEnd + 1) out.push(`… lines ${previousEnd + 1}–${entry.line - 1} omitted`);
      out.push(...render(entry, text));
      previousEnd = entry.line + entry.repeats;
    }
    if (picked.length > 0 && previousEnd < totalLines)
      out.push(`… lines ${previousEnd + 1}–${totalLines} omitted`);
    let excerpt = out.join('\n');
    if (Buffer.byteLength(excerpt) > maxBytes) excerpt = utf8Head(excerpt, maxBytes);

    const shown = new Map<Region, { start: number; end: number }>();
    for (const { entry, region } of picked) {
      if (region === tail) continue;
      const span = shown.get(region);
      const end = entry.line + entry.repeats;
      if (span) span.end = end;
      else shown.set(region, { start: entry.line, end });
    }
    const omittedRegions = this.omitted + regions.filter((region) => !shown.has(region)).length;
    return {
      excerpt,
      truncated: dropped,
      totalLines,
      totalBytes: this.bytesSeen,
      regions: [...shown].map(([region, span]) => ({
        startLine: span.start,
        endLine: span.end,
        trigger: region.trigger,
        triggerLine: region.triggerLine,
      })),
      omittedRegions,
    };
  }
}

/**
 * Extract the failing regions of a build log, streaming.
 *
 * What the excerpt holds: every line that matches a failure trigger (see ./patterns) with
 * `contextBefore`/`contextAfter` lines around it, overlapping or adjacent regions merged, runs
 * of identical lines collapsed to the line plus "… repeated N more times", and always the last
 * `tailLines` lines of the log. ANSI escapes and other control characters are removed, CR
 * progress-bar overwrites keep only their final text, and lines are cut at `maxLineBytes`.
 *
 * Over the cap (`maxBytes`), the excerpt keeps the END of the log: the tail first, then the
 * last failing regions, then earlier ones while room remains; earlier regions are dropped
 * (`omittedRegions`) and `truncated` is set. The last failure is usually the one that stopped
 * the build, and earlier ones are often its echoes or tolerated noise.
 *
 * Memory stays bounded for any input size (see module doc).
 */
export async function extractExcerpt(
  input: NodeJS.ReadableStream | AsyncIterable<Buffer | string>,
  options: ExcerptOptions = {},
): Promise<ExcerptResult> {
  const scanner = new ExcerptScanner(options);
  for await (const chunk of input as AsyncIterable<Buffer | string>) {
    scanner.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
  }
  return scanner.finish();
}
