import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { PolicyGateOptions } from './gate';
import { describeIssues } from '../zod';

const EnvironmentSchema = z.object({
  SUTURE_POLICY_BUNDLE: z.string().min(1).optional(),
  SUTURE_POLICY_BUNDLE_SHA256: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, 'SUTURE_POLICY_BUNDLE_SHA256 must be 64 hex digits')
    .optional(),
  SUTURE_POLICY_VERIFICATION_KEY: z.string().min(1).optional(),
  SUTURE_POLICY_VERIFICATION_KEY_FILE: z.string().min(1).optional(),
  SUTURE_POLICY_KEY_ID: z.string().min(1).optional(),
  SUTURE_POLICY_SCOPE: z.string().optional(),
  SUTURE_POLICY_ALLOW_UNSIGNED: z
    .enum(['true', 'false'], { error: 'SUTURE_POLICY_ALLOW_UNSIGNED must be "true" or "false"' })
    .optional(),
  SUTURE_POLICY_DEADLINE_MS: z.coerce.number().positive('SUTURE_POLICY_DEADLINE_MS must be > 0').optional(),
});

/**
 * Gate options from a Lambda's environment. The bundle defaults to `policy/bundle.tar.gz`
 * beside the handler; unsigned bundles load only with SUTURE_POLICY_ALLOW_UNSIGNED=true.
 * Throws with every wrong variable named.
 */
export function gateOptionsFromEnvironment(env: NodeJS.ProcessEnv, handlerDir: string): PolicyGateOptions {
  const parsed = EnvironmentSchema.safeParse(env);
  if (!parsed.success)
    throw new Error(`policy gate configuration is invalid: ${describeIssues(parsed.error)}`);
  const e = parsed.data;
  const key =
    e.SUTURE_POLICY_VERIFICATION_KEY ??
    (e.SUTURE_POLICY_VERIFICATION_KEY_FILE
      ? readFileSync(e.SUTURE_POLICY_VERIFICATION_KEY_FILE, 'utf8')
      : undefined);
  return {
    bundle: e.SUTURE_POLICY_BUNDLE ?? join(handlerDir, 'policy', 'bundle.tar.gz'),
    ...(e.SUTURE_POLICY_BUNDLE_SHA256 ? { expectedSha256: e.SUTURE_POLICY_BUNDLE_SHA256 } : {}),
    ...(e.SUTURE_POLICY_DEADLINE_MS ? { deadlineMs: e.SUTURE_POLICY_DEADLINE_MS } : {}),
    verification: {
      ...(key ? { key } : {}),
      ...(e.SUTURE_POLICY_KEY_ID ? { keyId: e.SUTURE_POLICY_KEY_ID } : {}),
      ...(e.SUTURE_POLICY_SCOPE !== undefined ? { scope: e.SUTURE_POLICY_SCOPE } : {}),
      allowUnsigned: e.SUTURE_POLICY_ALLOW_UNSIGNED === 'true',
    },
  };
}
