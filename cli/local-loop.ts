/**
 * What `suture simulate` and `suture replay` (with scenario files) take from local/: the loop
 * on one machine. It needs the development install (devDependencies: aws-local-stepfunctions,
 * @smithy/eventstream-codec, @cloud-copilot/iam-simulate) and a checkout with its Python
 * virtualenv (moto), so the CLI loads this module only when one of those commands runs:
 * through `loadLocalLoop` (cli/development.ts), never statically.
 */
export { faultFigures, faultReport } from '../local/faults/figures';
export { htmlReport, textReport, unusedGrantsReport } from '../local/simulate/report';
export { simulateScenarios } from '../local/simulate/run';
export { loadScenario, ScenarioError } from '../local/simulate/scenario';
export { moduleSimulation } from '../local/simulate/setup';
