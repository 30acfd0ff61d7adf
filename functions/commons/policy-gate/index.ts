/** The policy-gate library: shared by the gate Lambda, the executor and the CLI. */
export {
  PolicyGate,
  DECISION_ENTRYPOINT,
  GateReasonCode,
  denyDecision,
  type PolicyGateOptions,
} from './gate';
export { gateOptionsFromEnvironment } from './environment';
export { PolicyBundleError, PolicyBundleSignatureError } from './errors';
export { GateInputSchema, describeIssues, type GateDecision, type GateInput, type Reason } from './schema';
export type { SignatureVerification } from './signature';
