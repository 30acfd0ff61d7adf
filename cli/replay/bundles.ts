import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PolicyGate } from '../../functions/commons/policy-gate';
import { UsageError } from '../errors';
import { buildPolicyBundle } from '../policy/build';

/**
 * Replay decides offline and is not latency-bound: a generous deadline keeps a slow first
 * evaluation (wasm warm-up, a loaded CI machine) from showing up as a spurious
 * `gate_deadline_exceeded` change.
 */
const REPLAY_DEADLINE_MS = 60_000;

/** A bundle ready to decide, and where it came from. */
export interface ReplayBundle {
  readonly gate: PolicyGate;
  /** What the user named: a bundle file or a policy directory. */
  readonly source: string;
  /** Whether `source` was a policy directory built for this replay. */
  readonly built: boolean;
}

/**
 * Loads a built bundle (`.tar.gz`) or builds a policy directory (one holding `.manifest`, like
 * `policies/`) into a temporary bundle first. Unsigned bundles are accepted: replay is a
 * backtest on the author's machine, not a deployment. Anything unusable is a {@link UsageError}.
 */
export async function loadReplayBundle(source: string, what: string): Promise<ReplayBundle> {
  const stats = statOrUndefined(source);
  if (!stats) throw new UsageError(`${what} ${source} does not exist`);
  if (!stats.isDirectory()) return { gate: await loadGate(source, what), source, built: false };

  if (!existsSync(join(source, '.manifest'))) {
    throw new UsageError(
      `${what} ${source} is a directory without a .manifest: pass a policy directory like policies/ (copy the whole directory, .manifest included) or a built bundle`,
    );
  }
  const scratch = mkdtempSync(join(tmpdir(), 'suture-replay-'));
  try {
    const outFile = join(scratch, 'bundle.tar.gz');
    try {
      buildPolicyBundle({ policyDir: source, outFile });
    } catch (error) {
      throw new UsageError(`${what} ${source} does not build: ${opaMessage(error)}`);
    }
    return { gate: await loadGate(outFile, what, source), source, built: true };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * What opa said. `opa build` prints its errors (parse errors with file:line, relative to the
 * policy directory) on standard output, which buildPolicyBundle's message leaves out.
 */
function opaMessage(error: unknown): string {
  const cause = (error as { cause?: { stdout?: Buffer | string; stderr?: Buffer | string } }).cause;
  const output = [cause?.stdout, cause?.stderr]
    .map((stream) => stream?.toString().trim() ?? '')
    .filter((stream) => stream !== '');
  const message = (error as Error).message;
  const extra = output.filter((stream) => !message.includes(stream));
  return [message, ...extra].join('\n');
}

async function loadGate(file: string, what: string, named: string = file): Promise<PolicyGate> {
  try {
    return await PolicyGate.load({
      bundle: file,
      verification: { allowUnsigned: true },
      deadlineMs: REPLAY_DEADLINE_MS,
    });
  } catch (error) {
    throw new UsageError(`${what} ${named} cannot be used: ${(error as Error).message}`);
  }
}

function statOrUndefined(path: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}
