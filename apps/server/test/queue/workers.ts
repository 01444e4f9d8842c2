import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const WORKER_APP = fileURLToPath(new URL('../../../worker', import.meta.url));

/** A real inference worker process (apps/worker from its sources, through tsx). */
export interface WorkerProcess {
  id: string;
  child: ChildProcess;
  /** Everything it wrote to stderr so far. */
  output(): string;
  /** Resolves once it logged its start line (the line itself); rejects if it exits first. */
  ready: Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal: NodeJS.Signals): void;
}

/**
 * Start `node --import tsx apps/worker/src/main.ts` with the given environment (on top of a quiet
 * default: one inference thread on the CPU). Its cwd is apps/worker, so tsx uses that tsconfig,
 * whose `paths` map @strata/server to the server's sources: what runs is the code under test.
 */
export function spawnWorker(id: string, env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: WORKER_APP,
    env: { ...process.env, STRATA_WORKER_ID: id, STRATA_WORKERS: '1', STRATA_EXECUTION_PROVIDER: 'cpu', STRATA_LOG: 'error', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let text = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const ready = new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const line = text.split('\n').find((l) => l.startsWith(`strata worker ${id}: models`));
      if (line) resolve(line);
    });
    void exited.then(({ code, signal }) => reject(new Error(`worker ${id} exited (${code ?? signal}) before it was ready:\n${text}`)));
  });
  ready.catch(() => undefined);
  return { id, child, output: () => text, ready, exited, kill: (signal) => child.kill(signal) };
}

/** Poll until `check` holds (or fail after `ms`). */
export async function eventually<T>(
  check: () => Promise<T | false | null | undefined> | T | false | null | undefined,
  what: string,
  ms = 10_000,
): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
