#!/usr/bin/env node
import { approveCommand } from './commands/approve';
import { auditVerifyCommand } from './commands/audit';
import { classifyCommand } from './commands/classify';
import { decideCommand } from './commands/decide';
import { excerptCommand, redactCommand } from './commands/logs';
import { policyBuild, policyTest } from './commands/policy';
import { replayCommand } from './commands/replay';
import { simulateCommand } from './commands/simulate';
import { UsageError } from './errors';

const USAGE = `usage: suture <command> [options]

  policy build [--out FILE] [--signing-key PEM|SECRET] [--signing-alg RS256] [--key-id ID]
                         compile policies/ to a WebAssembly bundle (build/policy/bundle.tar.gz)
  policy test [--coverage-min 95]
                         opa fmt, opa check --strict, regal lint, opa test with coverage
  decide --input FILE|- [--bundle FILE] [--public-key PEM | --hmac-secret-env VAR] [--allow-unsigned]
                         print the policy decision for one input (exit 0 allow/approval/deny, 2 bad input)
  replay --bundle CANDIDATE --incidents DIR [--baseline BUNDLE|DIR] [--format text|markdown|json] [--accept-wider]
                         re-decide recorded incidents (audit exports, policy inputs, scenario files) with the
                         current and a candidate policy (exit 1 if autonomy widens)
  simulate [SCENARIO|DIR ...] [--json] [--report FILE.html] [--audit-out DIR]
                         run scenarios (default scenarios/) through the whole loop locally (exit 1 if an expectation fails)
  classify               JSON Lines {id, log} on stdin -> {id, class, confidence, signature} on stdout
  redact [--report FILE] stdin -> stdout with secrets replaced by [REDACTED:rule] markers
  excerpt [--max-bytes N] [--context-before N] [--context-after N] [--tail-lines N] [--json]
                         the failing regions of a build log on stdin (streams logs of any size)
  audit verify --file FILE|- | --table NAME --incident ID [--region R] [--endpoint-url URL]
               [--digest FILE | --digest-bucket BUCKET] [--key-id ARN]
                         check an incident's hash-chained audit records (exit 0 intact, 1 broken),
                         and against its signed digest(s): truncated, reordered, edited, bad signature
  approve APPROVAL_ID --approve|--reject [--reason TEXT] --url FUNCTION_URL [--region R]
                         decide a pending approval, signed with your AWS credentials (exit 0 decided, 1 refused)
`;

type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, Command> = {
  'policy build': policyBuild,
  'policy test': policyTest,
  decide: decideCommand,
  replay: replayCommand,
  simulate: simulateCommand,
  'audit verify': auditVerifyCommand,
  approve: approveCommand,
  classify: classifyCommand,
  redact: redactCommand,
  excerpt: excerptCommand,
};

/** Runs the CLI and returns its exit code. */
export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    process.stdout.write(USAGE);
    return argv.length === 0 ? 2 : 0;
  }
  const two = `${argv[0]} ${argv[1] ?? ''}`;
  const [name, rest] = COMMANDS[two] ? [two, argv.slice(2)] : [argv[0]!, argv.slice(1)];
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`suture: unknown command "${argv.join(' ')}"\n\n${USAGE}`);
    return 2;
  }
  try {
    return await command(rest);
  } catch (error) {
    const usage =
      error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`suture ${name}: ${(error as Error).message}\n`);
    return usage ? 2 : 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`suture: ${(error as Error).stack ?? String(error)}\n`);
      process.exit(1);
    },
  );
}
