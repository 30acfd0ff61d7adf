import { gateOptionsFromEnvironment } from './environment';
import { PolicyGate } from './gate';

let loading: Promise<PolicyGate> | undefined;

/**
 * The policy gate of this process, loaded and verified once from the SUTURE_POLICY_*
 * environment (bundle beside the handler by default). A failed load is not cached, so the
 * next call tries again: a fixed bundle or configuration heals without a cold start.
 */
export function processGate(handlerDir: string): Promise<PolicyGate> {
  loading ??= PolicyGate.load(gateOptionsFromEnvironment(process.env, handlerDir)).catch((error: unknown) => {
    loading = undefined;
    throw error;
  });
  return loading;
}

/** Test hook: forget the loaded gate so the next call reads the environment again. */
export function resetProcessGate(): void {
  loading = undefined;
}
