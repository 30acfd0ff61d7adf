import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { repoRoot } from '../../cli/paths';

/** A running moto server on 127.0.0.1. */
export interface MotoServer {
  readonly endpoint: string;
  readonly pid: number;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

async function waitUntilReady(endpoint: string, deadlineMs: number): Promise<void> {
  const started = Date.now();
  for (;;) {
    try {
      const response = await fetch(`${endpoint}/moto-api/`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() - started > deadlineMs) throw new Error(`moto server at ${endpoint} did not start`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Starts moto (see moto_server.py) from the project virtualenv, created by `make`. */
export async function startMoto(): Promise<MotoServer> {
  const python = join(repoRoot(), '.venv', 'bin', 'python');
  if (!existsSync(python)) {
    throw new Error(`${python} is missing: run 'make test' (it creates .venv from requirements-dev.txt)`);
  }
  const port = await freePort();
  const child = spawn(
    python,
    [join(repoRoot(), 'local', 'moto', 'moto_server.py'), '127.0.0.1', String(port)],
    {
      stdio: 'ignore',
      detached: true,
    },
  );
  child.unref();
  const endpoint = `http://127.0.0.1:${port}`;
  await waitUntilReady(endpoint, 30_000);
  return { endpoint, pid: child.pid! };
}

/** Stops a server started by {@link startMoto}. */
export function stopMoto(pid: number): void {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    // already gone
  }
}
