/** Suture's cdktf constructs. */
export { PolicyBundle, manifestRootsOnly, type PolicyBundleProps } from './policy-bundle';
export {
  SelfHealingLoop,
  LOOP_DEFAULTS,
  LOG_RETENTION_DAYS,
  type SelfHealingLoopProps,
  type PolicyVerification,
} from './self-healing-loop';
export type {
  PipelineInScope,
  ReleaseHealthAlarm,
  PipelineScopeExpression,
  AlarmScopeExpression,
} from './parts/scope';
export type { BedrockSettings, GuardrailPiiEntity } from './parts/bedrock-agent';
export type { SmokeChecksSettings } from './parts/smoke-project';
export { LoopMetric } from './parts/monitoring';
export { LoopChecks, TagResources, INFRASTRUCTURE_RULES, type InfrastructureRule } from './aspects';
export { LAMBDA_RUNTIME, DEPRECATED_LAMBDA_RUNTIMES } from './functions/runtime';
export { addStageConditions, type StageConditionsProps } from './stage-conditions';
export { SutureModuleStack } from './module-stack';
export {
  buildWorkflowDefinition,
  StateName,
  WORKFLOW_FUNCTIONS,
  type WorkflowDefinition,
  type WorkflowDefinitionProps,
} from './workflow/definition';
export {
  assertValidDefinition,
  validateDefinition,
  InvalidWorkflowDefinitionError,
} from './workflow/validate';
