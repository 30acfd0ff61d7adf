import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { describeIssues, GateInputSchema, PolicyGate } from '../../functions/commons/policy-gate';
import { defaultBundlePaths } from '../policy/build';
import { UsageError } from '../errors';
import { parseJsonArgument, readInputArgument } from '../io';

/**
 * `suture decide --input FILE|DIR|-`: prints the decision for one policy input (JSON), or one
 * line per `*.json` file of a directory. Exit 0 when every decision was made (deny included),
 * 2 when an input or the options cannot be used, 1 when the bundle cannot be trusted.
 */
export async function decideCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      input: { type: 'string', short: 'i' },
      bundle: { type: 'string' },
      'public-key': { type: 'string' },
      'hmac-secret-env': { type: 'string' },
      'key-id': { type: 'string' },
      'allow-unsigned': { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (!values.input) throw new UsageError('decide needs --input FILE (or --input - for standard input)');
  const directory = values.input !== '-' && (await stat(values.input).catch(() => undefined))?.isDirectory();
  const files = directory
    ? (await readdir(values.input))
        .filter((name) => name.endsWith('.json'))
        .sort()
        .map((name) => join(values.input!, name))
    : [values.input];
  if (files.length === 0) throw new UsageError(`${values.input} holds no .json inputs`);
  const inputs = await Promise.all(files.map(readPolicyInput));

  let key: string | undefined;
  if (values['public-key']) key = await readInputArgument(values['public-key'], 'public key');
  if (values['hmac-secret-env']) {
    key = process.env[values['hmac-secret-env']];
    if (!key) throw new UsageError(`environment variable ${values['hmac-secret-env']} is empty`);
  }
  let gate: PolicyGate;
  try {
    gate = await PolicyGate.load({
      bundle: values.bundle ?? defaultBundlePaths().bundleFile,
      verification: {
        ...(key ? { key } : {}),
        ...(values['key-id'] ? { keyId: values['key-id'] } : {}),
        allowUnsigned: values['allow-unsigned'],
      },
    });
  } catch (error) {
    process.stderr.write(`suture decide: policy bundle refused: ${(error as Error).message}\n`);
    return 1;
  }
  if (!directory) {
    process.stdout.write(`${JSON.stringify(gate.decide(inputs[0]), null, 2)}\n`);
    return 0;
  }
  process.stdout.write(`bundle ${gate.revision}${gate.signed ? ' (signed)' : ' (unsigned)'}\n`);
  for (const [index, input] of inputs.entries()) {
    const decision = gate.decide(input);
    const outcome = decision.allow ? 'ALLOW' : decision.require_approval ? 'APPROVAL' : 'DENY';
    const reasons = decision.reasons.map((reason) => `${reason.code}: ${reason.msg}`).join('\n      ');
    process.stdout.write(`${outcome.padEnd(9)} ${basename(files[index]!)}\n      ${reasons}\n`);
  }
  return 0;
}

/** Reads and validates one policy input, naming the file and every wrong field when unusable. */
async function readPolicyInput(path: string): Promise<unknown> {
  const source = path === '-' ? 'standard input' : path;
  const input = parseJsonArgument(await readInputArgument(path, 'input'), source);
  const parsed = GateInputSchema.safeParse(input);
  if (!parsed.success)
    throw new UsageError(`${source} is not a usable policy input: ${describeIssues(parsed.error)}`);
  return parsed.data;
}
