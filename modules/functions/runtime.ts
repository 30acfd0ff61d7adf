/** The Lambda runtime every function of the loop runs on. */
export const LAMBDA_RUNTIME = 'nodejs24.x';

/** esbuild's `target` for the function bundles: the Node.js major of {@link LAMBDA_RUNTIME}. */
export const ESBUILD_TARGET = `node${/^nodejs(\d+)\.x$/.exec(LAMBDA_RUNTIME)![1]}`;

/**
 * Lambda runtime identifiers AWS has deprecated (past their deprecation date in Lambda's runtime
 * table: no more security patches, then no creating and no updating functions on them). The
 * `lambda-runtime` rule of `LoopChecks` fails synth on them, and `policies/suture/infra` denies
 * the same set (`deprecated_runtimes`; a test keeps the two equal). Add a runtime here and there
 * when AWS deprecates it.
 */
export const DEPRECATED_LAMBDA_RUNTIMES: ReadonlySet<string> = new Set([
  'nodejs',
  'nodejs4.3',
  'nodejs4.3-edge',
  'nodejs6.10',
  'nodejs8.10',
  'nodejs10.x',
  'nodejs12.x',
  'nodejs14.x',
  'nodejs16.x',
  'nodejs18.x',
  'nodejs20.x',
  'python2.7',
  'python3.6',
  'python3.7',
  'python3.8',
  'python3.9',
  'java8',
  'go1.x',
  'provided',
  'ruby2.5',
  'ruby2.7',
  'ruby3.2',
  'dotnetcore1.0',
  'dotnetcore2.0',
  'dotnetcore2.1',
  'dotnetcore3.1',
  'dotnet5.0',
  'dotnet6',
  'dotnet7',
]);
