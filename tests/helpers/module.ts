/** The Terraform module that jest's global setup synthesised from this checkout, for this run. */
export function testModuleDir(): string {
  const dir = process.env.SUTURE_TEST_MODULE_DIR;
  if (!dir) throw new Error('SUTURE_TEST_MODULE_DIR is not set: jest global setup synthesises the module');
  return dir;
}
