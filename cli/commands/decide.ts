import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { describeIssues, GateInputSchema, PolicyGate } from '../../functions/commons/policy-gate';
import { defaultBundlePaths } from '../policy/build';
import { UsageError } from '../errors';
import { parseJsonArgument, readInputArgument } from '../io';

/**
 * `suture decide --input FILE|-`: prints the decision for one policy input. Exit 0 when a
 * decision was made (deny included), 2 when the input or the options cannot be used, 1 when
 * the bundle cannot be trusted.
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
  const source = values.input === '-' ? 'standard input' : values.input;
  const input = parseJsonArgument(await readInputArgument(values.input, 'input'), source);
  const parsed = GateInputSchema.safeParse(input);
  if (!parsed.success)
    throw new UsageError(`${source} is not a usable policy input: ${describeIssues(parsed.error)}`);

  let key: string | undefined;
  if (values['public-key']) key = await readFile(values['public-key'], 'utf8');
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
  process.stdout.write(`${JSON.stringify(gate.decide(parsed.data), null, 2)}\n`);
  return 0;
}
