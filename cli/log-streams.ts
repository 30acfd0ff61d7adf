/**
 * The stream adapters behind `suture excerpt` and `suture redact`: stdin to stdout around the
 * core log extractor and redactor in functions/commons. They belong to the CLI, not to the
 * Lambda code, which never reads a process's standard streams.
 */
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { extractExcerpt, type ExcerptOptions, type ExcerptResult } from '../functions/commons/excerpt';
import {
  createRedactStream,
  type RedactionReport,
  type RedactStreamOptions,
} from '../functions/commons/redact';

/** Options of the `suture excerpt` command. */
export interface ExcerptCliOptions extends ExcerptOptions {
  /** Print the whole result as JSON instead of the excerpt text. @default false */
  readonly json?: boolean;
}

/**
 * `suture excerpt`: read a log from `stdin`, write the excerpt (or the JSON result) to `stdout`.
 * The stream is not ended, so callers can pass `process.stdout`.
 */
export async function excerptCli(
  stdin: NodeJS.ReadableStream,
  stdout: NodeJS.WritableStream,
  options: ExcerptCliOptions = {},
): Promise<ExcerptResult> {
  const { json = false, ...excerptOptions } = options;
  const result = await extractExcerpt(stdin, excerptOptions);
  const text = json
    ? `${JSON.stringify(result, null, 2)}\n`
    : result.excerpt === ''
      ? ''
      : `${result.excerpt}\n`;
  if (text !== '' && !stdout.write(text)) await once(stdout, 'drain');
  return result;
}

/** Options of the `suture redact` command. */
export interface RedactCliOptions extends RedactStreamOptions {
  /** Write the report as JSON to this file. */
  readonly reportFile?: string;
}

/**
 * `suture redact`: copy `stdin` to `stdout` with secrets redacted; optionally write the report
 * to `reportFile`. `stdout` is not ended, so callers can pass `process.stdout`.
 */
export async function redactCli(
  stdin: NodeJS.ReadableStream,
  stdout: NodeJS.WritableStream,
  options: RedactCliOptions = {},
): Promise<RedactionReport> {
  const { reportFile, ...streamOptions } = options;
  const redactor = createRedactStream(streamOptions);
  const source = stdin as NodeJS.ReadableStream & AsyncIterable<Buffer | string>;
  const feed = (async () => {
    for await (const chunk of source) {
      if (!redactor.write(chunk)) await once(redactor, 'drain');
    }
    redactor.end();
  })();
  for await (const chunk of redactor as AsyncIterable<string | Buffer>) {
    if (!stdout.write(chunk)) await once(stdout, 'drain');
  }
  await feed;
  const report = redactor.report;
  if (reportFile !== undefined) await writeFile(reportFile, `${JSON.stringify(report, null, 2)}\n`, 'utf8');
  return report;
}
