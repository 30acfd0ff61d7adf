/**
 * Reads the end of a build log from CloudWatch Logs and turns it into redacted evidence: the
 * failing regions (excerpt, at most EXCERPT_MAX_BYTES) for the state machine and the redacted
 * tail (at most STORED_LOG_TAIL_MAX_BYTES) for the S3 evidence object.
 *
 * Bounded whatever the log size: at most `pages` GetLogEvents calls of `pageEvents` events each
 * (and the service caps a page at 1 MB), read backwards from the end (`startFromHead: false`).
 * Text is cleaned of terminal escapes and control characters BEFORE redaction, so a secret
 * split by a colour code cannot slip past the rules, and the excerpt is redacted once more.
 */
import { once } from 'node:events';
import {
  GetLogEventsCommand,
  type CloudWatchLogsClient,
  type OutputLogEvent,
} from '@aws-sdk/client-cloudwatch-logs';
import { ExcerptScanner, type ExcerptRegion } from '../commons/excerpt';
import { createRedactStream, mergeReports, redactText, type RedactionReport } from '../commons/redact';
import { stripTerminalControls } from '../commons/terminal';
import { EXCERPT_MAX_BYTES } from '../commons/workflow/schema';
import { STORED_LOG_TAIL_MAX_BYTES } from './schema';

/** Where a log lives. */
export interface LogLocation {
  readonly group: string;
  readonly stream: string;
}

/** How much to read. */
export interface LogTailOptions {
  /** GetLogEvents calls at most. */
  readonly pages: number;
  /** `limit` of each call. */
  readonly pageEvents: number;
  /** Redacted tail kept for the evidence object. @default STORED_LOG_TAIL_MAX_BYTES */
  readonly maxStoredBytes?: number;
}

/** The redacted end of a log. */
export interface LogTail extends LogLocation {
  readonly pagesRead: number;
  readonly eventsRead: number;
  /** UTF-8 bytes of the messages read. */
  readonly bytesRead: number;
  /** True when the whole log was read (its first event is in the tail). */
  readonly reachedStart: boolean;
  /** Redacted failing regions and last lines, at most EXCERPT_MAX_BYTES. Line numbers count from the tail's start. */
  readonly excerpt: string;
  readonly excerptTruncated: boolean;
  readonly regions: readonly ExcerptRegion[];
  /** The redacted tail for the evidence object (its end, when longer than `maxStoredBytes`). */
  readonly storedText: string;
  readonly storedTruncated: boolean;
  /** Everything redaction removed from the tail and the excerpt. */
  readonly redaction: RedactionReport;
}

/** Terminal escapes and control characters removed; one event is one or more complete lines. */
export function cleanLogMessage(message: string): string {
  const clean = stripTerminalControls(message); // CR stays: the excerpt resolves CR overwrites.
  return clean.endsWith('\n') ? clean : `${clean}\n`;
}

/** Keeps the last `maxBytes` of a text stream, cut at a line start. */
class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  truncated = false;

  constructor(private readonly maxBytes: number) {}

  add(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.chunks.length > 1 && this.size - this.chunks[0]!.length >= this.maxBytes) {
      this.size -= this.chunks.shift()!.length;
      this.truncated = true;
    }
  }

  text(): string {
    let buffer = Buffer.concat(this.chunks);
    if (buffer.length > this.maxBytes) {
      const cut = buffer.length - this.maxBytes;
      const lineStart = buffer.indexOf(10, cut);
      buffer = lineStart >= 0 ? buffer.subarray(lineStart + 1) : buffer.subarray(cut);
      this.truncated = true;
    }
    return buffer.toString('utf8');
  }
}

/** The last pages of a log stream, oldest event first. */
async function readPages(
  client: CloudWatchLogsClient,
  location: LogLocation,
  options: LogTailOptions,
): Promise<{ events: OutputLogEvent[]; pagesRead: number; reachedStart: boolean }> {
  const pages: OutputLogEvent[][] = [];
  let token: string | undefined;
  let reachedStart = false;
  while (pages.length < options.pages) {
    const page = await client.send(
      new GetLogEventsCommand({
        logGroupName: location.group,
        logStreamName: location.stream,
        startFromHead: false,
        limit: options.pageEvents,
        ...(token ? { nextToken: token } : {}),
      }),
    );
    const events = page.events ?? [];
    if (events.length > 0) pages.push(events);
    // The service answers the token it was given once nothing is older; moto answers an empty page.
    if (events.length === 0 || !page.nextBackwardToken || page.nextBackwardToken === token) {
      reachedStart = true;
      break;
    }
    token = page.nextBackwardToken;
  }
  return { events: pages.reverse().flat(), pagesRead: pages.length, reachedStart };
}

/** Reads, cleans and redacts the end of a log; see the module documentation for the bounds. */
export async function readLogTail(
  client: CloudWatchLogsClient,
  location: LogLocation,
  options: LogTailOptions,
): Promise<LogTail> {
  const { events, pagesRead, reachedStart } = await readPages(client, location, options);
  const scanner = new ExcerptScanner({ maxBytes: EXCERPT_MAX_BYTES });
  const stored = new TailBuffer(options.maxStoredBytes ?? STORED_LOG_TAIL_MAX_BYTES);
  const redactor = createRedactStream();
  redactor.on('data', (chunk: Buffer) => {
    scanner.push(chunk);
    stored.add(chunk);
  });
  let bytesRead = 0;
  for (const event of events) {
    const message = event.message ?? '';
    bytesRead += Buffer.byteLength(message);
    if (!redactor.write(cleanLogMessage(message))) await once(redactor, 'drain');
  }
  const ended = once(redactor, 'end');
  redactor.end();
  await ended;
  const result = scanner.finish();
  // Second pass: the excerpt is what travels; it must hold no secret even if a line was cut.
  const excerpt = redactText(result.excerpt);
  return {
    ...location,
    pagesRead,
    eventsRead: events.length,
    bytesRead,
    reachedStart,
    excerpt: excerpt.text,
    excerptTruncated: result.truncated,
    regions: result.regions,
    storedText: stored.text(),
    storedTruncated: stored.truncated,
    redaction: mergeReports(redactor.report, excerpt.report),
  };
}
