/** Jest global teardown: stops the moto server that global setup started. */
import { stopMoto } from '../../local/moto/server';

export default function globalTeardown(): void {
  const pid = Number(process.env.SUTURE_TEST_MOTO_PID);
  if (pid > 0) stopMoto(pid);
}
