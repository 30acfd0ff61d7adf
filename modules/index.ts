/** Suture's cdktf constructs. */
export { PolicyBundle, type PolicyBundleProps } from './policy-bundle';
