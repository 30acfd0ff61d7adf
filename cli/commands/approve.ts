import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { parseArgs } from 'node:util';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Sha256 } from '@smithy/core/checksum';
import { HttpRequest } from '@smithy/core/protocols';
import { SignatureV4 } from '@smithy/signature-v4';
import { REASON_MAX_CHARS } from '../../functions/approval/schema';
import { APPROVAL_ID_PATTERN } from '../../functions/commons/approval/store';
import { UsageError } from '../errors';

/** How long to wait for the approval function. */
const REQUEST_TIMEOUT_MS = 30_000;

/** Statuses that mean "the approval function refused this decision" (exit 1). */
const REFUSED = new Set([403, 404, 405, 409, 410]);

/** The region of a function URL host (`<id>.lambda-url.<region>.on.aws`), if it is one. */
export function regionOfFunctionUrl(url: URL): string | undefined {
  return /\.lambda-url\.([a-z0-9-]+)\.on\.aws$/.exec(url.hostname)?.[1];
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(hostname);
}

/** The function URL to call: HTTPS, or plain HTTP to this machine only (local tests, simulators). */
function functionUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--url ${raw} is not a URL`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url.hostname))) {
    throw new UsageError('--url must be https:// (plain http is accepted for 127.0.0.1 and localhost only)');
  }
  return url;
}

/**
 * Signs a JSON POST to a Lambda function URL with SigV4 (service `lambda`), with the caller's
 * credentials from the default AWS chain (environment, SSO, shared config, process, web
 * identity, container and instance metadata). With AuthType AWS_IAM, Lambda checks the signature
 * and the caller's permission and hands the function the caller's ARN: that ARN is the
 * approver, so nobody can approve in someone else's name.
 */
export async function signFunctionUrlRequest(
  url: URL,
  body: string,
  region: string,
  credentials: ConstructorParameters<typeof SignatureV4>[0]['credentials'] = defaultProvider(),
): Promise<HttpRequest> {
  const signer = new SignatureV4({ service: 'lambda', region, credentials, sha256: Sha256 });
  const request = new HttpRequest({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    path: url.pathname || '/',
    query: Object.fromEntries(url.searchParams),
    headers: { host: url.host, 'content-type': 'application/json' },
    body,
  });
  return (await signer.sign(request)) as HttpRequest;
}

/** Sends a signed request and returns the status and body text. */
function send(url: URL, signed: HttpRequest): Promise<{ status: number; text: string }> {
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      { method: signed.method, headers: signed.headers, timeout: REQUEST_TIMEOUT_MS },
      (response: IncomingMessage) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        response.on('error', reject);
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer from ${url.origin} in 30 s`)));
    outgoing.on('error', reject);
    outgoing.end(signed.body as string);
  });
}

/**
 * `suture approve APPROVAL_ID --approve|--reject [--reason TEXT] --url FUNCTION_URL [--region R]`:
 * posts the decision to the approval function URL, signed with the caller's own AWS
 * credentials. Prints the function's JSON answer. Exit 0 when the decision was taken, 1 when it
 * was refused (unknown id, already decided, expired, not allowed) or could not be delivered,
 * 2 on a usage error.
 */
export async function approveCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      approve: { type: 'boolean' },
      reject: { type: 'boolean' },
      reason: { type: 'string' },
      url: { type: 'string' },
      region: { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length !== 1) throw new UsageError('approve needs exactly one APPROVAL_ID');
  const approvalId = positionals[0]!;
  if (!APPROVAL_ID_PATTERN.test(approvalId)) {
    throw new UsageError(`${approvalId} is not an approval id (apr- and 32 hex digits)`);
  }
  if (Boolean(values.approve) === Boolean(values.reject)) {
    throw new UsageError('approve needs exactly one of --approve and --reject');
  }
  if (values.reason !== undefined && values.reason.length > REASON_MAX_CHARS) {
    throw new UsageError(`--reason must be at most ${REASON_MAX_CHARS} characters`);
  }
  if (!values.url) throw new UsageError('approve needs --url FUNCTION_URL (the approval function URL)');
  const url = functionUrl(values.url);
  const region =
    values.region ?? regionOfFunctionUrl(url) ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (!region) throw new UsageError('cannot tell the region of --url: pass --region');

  const body = JSON.stringify({
    approval_id: approvalId,
    decision: values.approve ? 'approve' : 'reject',
    ...(values.reason !== undefined ? { reason: values.reason } : {}),
  });
  const signed = await signFunctionUrlRequest(url, body, region);
  const { status, text } = await send(url, signed);
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  if (status >= 200 && status < 300) return 0;
  let message = text;
  try {
    const parsed = JSON.parse(text) as { message?: unknown; Message?: unknown };
    message = String(parsed.message ?? parsed.Message ?? text);
  } catch {
    // Not JSON (a proxy's error page): report the text as it is.
  }
  if (status === 400) throw new UsageError(`the approval function refused the request: ${message}`);
  const why = REFUSED.has(status) ? 'refused' : 'failed';
  process.stderr.write(`suture approve: ${why} (HTTP ${status}): ${message}\n`);
  return 1;
}
