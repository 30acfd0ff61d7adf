import fc from 'fast-check';
import type { GateDecision, PolicyGate } from '../../functions/commons/policy-gate';
import {
  malformedInputArbitrary,
  policyConfig,
  planInputArbitrary,
  policyInputArbitrary,
  type PolicyInput,
} from '../helpers/arbitraries';
import { codesOf, loadBuiltGate, transientRetryInput } from '../helpers/policy';

// ---------------------------------------------------------------------------------------------
// Remote code in free text: generated attacks and ordinary buildspec changes.
// ---------------------------------------------------------------------------------------------

/** Spaces as a shell accepts them: blanks, tabs, a line continuation. */
const gap = fc.constantFrom(' ', '  ', '\t', ' \\\n    ');
const maybeGap = fc.oneof(fc.constant(''), gap);
/** A URL, quoted or not; quoted ones may hold `;` and `&` (the generator keeps them). */
const url = fc
  .tuple(fc.webUrl({ withQueryParameters: true }), fc.constantFrom('', '"', "'"))
  .map(([address, quote]) =>
    quote === ''
      ? address.replace(/[;&|'"()$`<>\\]/g, '')
      : `${quote}${address.replace(/["'\\]/g, '')}${quote}`,
  );
const upperSometimes = (word: string) => fc.constantFrom(word, word.toUpperCase());
const fetchToStdout = fc.oneof(
  fc
    .tuple(
      fc.constantFrom('curl', '/usr/bin/curl', '\\curl', 'c"ur"l').chain(upperSometimes),
      fc.subarray(['-s', '-S', '-L', '-f', '-k', '--retry 3', '--proto =https']),
      gap,
      url,
    )
    .map(([fetcher, flags, space, address]) => [fetcher, ...flags, address].join(space)),
  fc
    .tuple(fc.constantFrom('wget -qO-', 'wget -O -', 'wget --quiet --output-document=-'), gap, url)
    .map(([fetcher, space, address]) => `${fetcher}${space}${address}`),
  url.map((address) => `fetch -o - ${address}`),
);
const shell = fc
  .tuple(
    fc.constantFrom('', 'sudo ', 'sudo -E ', 'env ', 'sudo -u root ', 'FOO=1 '),
    fc.constantFrom(
      'sh',
      'bash',
      'zsh',
      '/bin/bash',
      '/usr/bin/env bash',
      'python',
      'python3',
      'python3.12',
      'perl',
      'node',
      'ruby',
    ),
    fc.constantFrom('', ' -', ' -s', ' -s -- --yes', ' -x'),
  )
  .map(([prefix, name, args]) => `${prefix}${name}${args}`);
const shellName = fc.constantFrom('sh', 'bash', 'zsh', '/bin/sh', 'python3', 'perl', 'ruby', 'node');
const codeFlag: Record<string, string> = { python3: '-c', perl: '-e', ruby: '-e', node: '-e' };
const payload = fc.base64String({ minLength: 8, maxLength: 40 });
const fileName = fc.constantFrom('install.sh', 'get', 'tool', 'setup.py', 'x');
const separator = fc.constantFrom('; ', ' && ', '\n      - ');

/** One command that fetches or decodes code and runs it. */
const remoteCodeCommand = fc.oneof(
  fc.tuple(fetchToStdout, maybeGap, maybeGap, shell).map(([fetch, a, b, run]) => `${fetch}${a}|${b}${run}`),
  fc.tuple(shellName, gap, fetchToStdout).map(([run, space, fetch]) => `${run}${space}<(${fetch})`),
  fc
    .tuple(shellName, fc.constantFrom('"', ''), fetchToStdout)
    .map(([run, quote, fetch]) => `${run} ${codeFlag[run] ?? '-c'} ${quote}$(${fetch})${quote}`),
  fc
    .tuple(
      fc.constantFrom('eval', 'EVAL'),
      fc.constantFrom(['"$(', ')"'], ['$(', ')'], ['`', '`']),
      fetchToStdout,
    )
    .map(([evaluate, [open, close], fetch]) => `${evaluate} ${open}${fetch}${close}`),
  fc
    .tuple(payload, fc.constantFrom('-d', '--decode', '-D'), maybeGap, shell)
    .map(([data, flag, space, run]) => `echo ${data} | base64 ${flag}${space}|${space}${run}`),
  fc
    .tuple(fileName, url, fc.constantFrom('+x', 'u+x', '755', '0700', 'a+rx'), separator)
    .map(([file, address, mode, sep]) =>
      [`curl -fsSL -o ${file} ${address}`, `chmod ${mode} ${file}`, `./${file}`].join(sep),
    ),
  fc
    .tuple(fileName, url, separator, shellName)
    .map(([file, address, sep, run]) => `wget -O ${file} ${address}${sep}${run} ${file}`),
  url.map((address) => `Invoke-Expression (Invoke-WebRequest -UseBasicParsing ${address}).Content`),
  url.map((address) => `iex (iwr ${address})`),
  url.map((address) => `iwr ${address} | iex`),
  url.map((address) => `IEX(New-Object Net.WebClient).DownloadString(${address})`),
  payload.map((data) => `powershell -NoProfile -EncodedCommand ${data}`),
);

/** Ordinary buildspec commands; curl and base64 appear, but nothing they produce is run. */
const ordinaryCommand = fc.oneof(
  fc.constantFrom(
    'npm ci',
    'npm run build',
    'npm test -- --ci',
    'pip install -r requirements.txt',
    'python -m pip install --upgrade pip',
    'node scripts/build.js',
    'bash scripts/test.sh',
    'chmod +x scripts/deploy.sh && ./scripts/deploy.sh',
    'eval "$(ssh-agent -s)"',
    'echo $CERT_B64 | base64 -d > cert.pem',
    'git fetch --tags && git describe',
  ),
  fc
    .tuple(
      fc.constantFrom('python -m pytest', 'pytest', 'python3 -m pytest'),
      fc.subarray(['-q', '-x', '--maxfail=1', 'tests/']),
    )
    .map(([cmd, flags]) => [cmd, ...flags].join(' ')),
  url.map((address) => `curl -f ${address}`),
  fc
    .tuple(url, fileName)
    .map(([address, file]) => `curl -sS -o ${file}.json ${address} && node scripts/report.js ${file}.json`),
  fc.constantFrom('nodejs: 20', 'python: 3.12', 'java: corretto21'),
);

/** The allowed base input with the proposal of a model: `action` with exactly `parameters`. */
function modelProposal(klass: string, action: string, parameters: Record<string, unknown>) {
  const input = transientRetryInput();
  input.incident.class = klass;
  return { ...input, proposal: { ...input.proposal, action, parameters, source: 'model', confidence: 0.9 } };
}

/** A model's patch to a buildspec whose install phase gains `lines`. */
function buildspecPatch(lines: readonly string[], indent: string) {
  const added = lines.map((line) => `+${indent}- ${line}`).join('\n');
  return modelProposal('flaky_test', 'open_patch_proposal', {
    title: 'Harden the build',
    patch: `--- a/buildspec.yml\n+++ b/buildspec.yml\n@@ -4,4 +4,6 @@ phases:\n   install:\n     commands:\n${added}\n       - npm ci\n`,
  });
}
const indent = fc.constantFrom('      ', '    ', '\t');

/** What must hold for every allowed proposal, whatever produced it. */
function assertAllowIsJustified(input: PolicyInput, decision: GateDecision): void {
  const { incident, proposal, context } = input;
  const action = policyConfig.actions[proposal.action];
  const klass = policyConfig.classes[incident.class];
  expect(action).toBeDefined();
  expect(klass?.actions).toContain(proposal.action);
  expect(policyConfig.pipelines[incident.account]?.[incident.region]?.[incident.pipeline]).toBeDefined();
  expect(decision.require_approval).toBe(false);
  for (const [name, value] of Object.entries(proposal.parameters)) {
    expect(Object.keys(action!.parameters)).toContain(name);
    if (name === 'pipeline' || name === 'stage') expect(value).toBe(incident[name]);
  }
  expect(context.pipeline_tags['suture:mode']).not.toBe('observe');
  if (action!.mutating) {
    expect(context.attempts.fingerprint_24h).toBeLessThan(klass!.budget.fingerprint_24h!);
    expect(context.attempts.pipeline_1h).toBeLessThan(klass!.budget.pipeline_1h!);
    const approved =
      context.approval?.approved === true &&
      context.approval.approver !== '' &&
      context.approval.action === proposal.action;
    expect(decision.mode === 'auto' || approved).toBe(true);
  }
}

describe('policy properties (fast-check over the real wasm)', () => {
  let gate: PolicyGate;

  beforeAll(async () => {
    gate = await loadBuiltGate();
  });

  it('allows only what the class allow-list, scope, budgets and mode (or an approval) permit', () => {
    let allowed = 0;
    fc.assert(
      fc.property(policyInputArbitrary, (input) => {
        const decision = gate.decide(input);
        expect(decision.allow && decision.require_approval).toBe(false);
        if (decision.allow) {
          allowed += 1;
          assertAllowIsJustified(input, decision);
        }
      }),
      { numRuns: 4000 },
    );
    // The generator must reach the allow path often enough for the property to mean something.
    expect(allowed).toBeGreaterThan(100);
  });

  it('allows a plan only when each step fits its place and one approval names every step', () => {
    let allowed = 0;
    let multiStep = 0;
    const resumeAfter = (klass: string) =>
      (policyConfig.classes[klass] as { resume_after?: Record<string, string[]> } | undefined)
        ?.resume_after ?? {};
    const maxSteps = (policyConfig as unknown as { plan_max_steps: number }).plan_max_steps;
    fc.assert(
      fc.property(planInputArbitrary, (input) => {
        const decision = gate.decide(input);
        expect(decision.allow && decision.require_approval).toBe(false);
        if (!decision.allow) return;
        allowed += 1;
        const steps = [input.proposal, ...input.then];
        expect(steps.length).toBeLessThanOrEqual(maxSteps);
        expect(policyConfig.classes[input.incident.class]?.actions).toContain(input.proposal.action);
        for (const [i, step] of steps.entries()) {
          if (i > 0) expect(resumeAfter(input.incident.class)[steps[i - 1]!.action]).toContain(step.action);
          const spec = policyConfig.actions[step.action]!;
          for (const [name, value] of Object.entries(step.parameters)) {
            expect(Object.keys(spec.parameters)).toContain(name);
            if (name === 'pipeline' || name === 'stage') expect(value).toBe(input.incident[name]);
          }
        }
        if (steps.length > 1) {
          multiStep += 1;
          // The only class with plans runs in suggest mode: an allowed plan was approved, step by step.
          expect(input.context.approval).toMatchObject({
            approved: true,
            steps: steps.map((step) => ({ action: step.action, parameters: step.parameters })),
          });
        }
      }),
      { numRuns: 4000 },
    );
    // The generator must reach allowed plans of more than one step (about 15 in 4000 runs).
    expect(allowed).toBeGreaterThan(50);
    expect(multiStep).toBeGreaterThan(3);
  });

  it('never allows a malformed input, through the gate or through the compiled policy alone', () => {
    fc.assert(
      fc.property(malformedInputArbitrary, (input) => {
        expect(gate.decide(input).allow).toBe(false);
        const raw = gate.evaluatePolicy(input) as { allow?: unknown } | undefined;
        expect(raw?.allow).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('never allows arbitrary JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(gate.decide(value).allow).toBe(false);
        const raw = gate.evaluatePolicy(value) as { allow?: unknown } | undefined;
        expect(raw?.allow).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it('denies every generated remote-code command in a patch, whatever else the patch holds', () => {
    fc.assert(
      fc.property(
        remoteCodeCommand,
        fc.array(ordinaryCommand, { maxLength: 3 }),
        fc.nat(3),
        indent,
        (attack, ordinary, at, space) => {
          const lines = [...ordinary];
          lines.splice(Math.min(at, lines.length), 0, attack);
          const decision = gate.decide(buildspecPatch(lines, space));
          expect(decision.allow).toBe(false);
          expect(codesOf(decision)).toEqual(['forbidden_remote_code']);
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('denies a remote-code command in an escalation reason too', () => {
    fc.assert(
      fc.property(remoteCodeCommand, (attack) => {
        const decision = gate.decide(
          modelProposal('transient_network', 'escalate', { reason: `a human could run ${attack}` }),
        );
        expect(codesOf(decision)).toEqual(['forbidden_remote_code']);
      }),
      { numRuns: 500 },
    );
  });

  it('allows ordinary buildspec changes in a patch proposal', () => {
    fc.assert(
      fc.property(fc.array(ordinaryCommand, { minLength: 1, maxLength: 5 }), indent, (lines, space) => {
        const decision = gate.decide(buildspecPatch(lines, space));
        expect(codesOf(decision)).toEqual(['handoff_allowed']);
        expect(decision.allow).toBe(true);
      }),
      { numRuns: 1500 },
    );
  });
});
