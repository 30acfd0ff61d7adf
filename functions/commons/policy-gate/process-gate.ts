import { functionEnvironment } from '../config';
import { gateOptionsFromEnvironment } from './environment';
import { PolicyGate } from './gate';
import { readS3Bundle } from './s3-source';

let loading: Promise<PolicyGate> | undefined;

/** Loads the gate the environment describes; a bundle at `s3://bucket/key` is read from S3 first. */
async function loadFromEnvironment(handlerDir: string): Promise<PolicyGate> {
  const options = gateOptionsFromEnvironment(functionEnvironment(), handlerDir);
  const { bundle } = options;
  if (typeof bundle === 'string' && bundle.startsWith('s3://')) {
    return PolicyGate.load({ ...options, bundle: await readS3Bundle(bundle) });
  }
  return PolicyGate.load(options);
}

/**
 * The policy gate of this process, loaded and verified once from the SUTURE_POLICY_*
 * environment (bundle beside the handler by default, or an S3 object). A failed load is not
 * cached, so the next call tries again: a fixed bundle or configuration heals without a cold start.
 */
export function processGate(handlerDir: string): Promise<PolicyGate> {
  loading ??= loadFromEnvironment(handlerDir).catch((error: unknown) => {
    loading = undefined;
    throw error;
  });
  return loading;
}

/** Test hook: forget the loaded gate so the next call reads the environment again. */
export function resetProcessGate(): void {
  loading = undefined;
}
