/** Jest global teardown: stops the moto server and deletes the module that global setup made. */
import { rmSync } from 'node:fs';
import { stopMoto } from '../../local/moto/server';

export default function globalTeardown(): void {
  const pid = Number(process.env.SUTURE_TEST_MOTO_PID);
  if (pid > 0) stopMoto(pid);
  const scratch = process.env.SUTURE_TEST_MODULE_SCRATCH;
  if (scratch) rmSync(scratch, { recursive: true, force: true });
}
