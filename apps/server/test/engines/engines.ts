import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Real engines for the tests that need them (Debian's postgresql and redis-server), each started
 * in a temp dir on a free port and stopped afterwards. Never mocks.
 */

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const PG_BIN = '/usr/lib/postgresql/15/bin';

export const hasPostgres = () => existsSync(join(PG_BIN, 'postgres'));
export const hasRedis = () => {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

async function waitFor(check: () => Promise<boolean> | boolean, what: string, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`${what} did not start within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface Engine {
  url: string;
  port: number;
  /** Stop it (SIGKILL with `kill`), keeping its data so `start` brings it back on the same port. */
  stop(options?: { kill?: boolean }): Promise<void>;
  start(): Promise<void>;
  /** Stop and remove its data. */
  dispose(): Promise<void>;
}

function stopProcess(child: ChildProcess | null, signal: NodeJS.Signals): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
/** PostgreSQL refuses to run as root: run its binaries as the `postgres` user then. */
const pgUser = (): { uid?: number; gid?: number } => {
  if (!asRoot) return {};
  const [uid, gid] = execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .concat(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: Number(uid), gid: Number(gid) };
};

/** A fresh PostgreSQL 15 cluster (trust auth on 127.0.0.1), database `strata`. */
export async function startPostgres(): Promise<Engine> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-pg-'));
  chmodSync(dir, 0o777);
  const data = join(dir, 'data');
  if (asRoot) execFileSync('chown', ['postgres', dir]);
  const user = pgUser();
  execFileSync(join(PG_BIN, 'initdb'), ['-D', data, '-U', 'strata', '--auth=trust', '-E', 'UTF8', '--no-sync'], {
    stdio: 'ignore',
    cwd: dir,
    ...user,
  });
  const port = await freePort();
  let child: ChildProcess | null = null;
  const start = async () => {
    const args = [
      '-D',
      data,
      '-p',
      String(port),
      '-h',
      '127.0.0.1',
      '-k',
      dir,
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'max_connections=200',
    ];
    child = spawn(join(PG_BIN, 'postgres'), args, { stdio: 'ignore', cwd: dir, ...user });
    await waitFor(() => {
      try {
        execFileSync(join(PG_BIN, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'strata'], { stdio: 'ignore' });
        return true;
      } catch {
        return false;
      }
    }, 'PostgreSQL');
  };
  await start();
  execFileSync(join(PG_BIN, 'createdb'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'strata', 'strata'], { stdio: 'ignore' });
  const engine: Engine = {
    url: `postgres://strata@127.0.0.1:${port}/strata`,
    port,
    start,
    stop: (options = {}) => stopProcess(child, options.kill ? 'SIGKILL' : 'SIGINT'), // SIGINT: fast shutdown
    async dispose() {
      await engine.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return engine;
}

/** A fresh database on a running PostgreSQL (one per test file keeps suites apart). */
export function createDatabase(engine: Engine, name: string): string {
  execFileSync(join(PG_BIN, 'createdb'), ['-h', '127.0.0.1', '-p', String(engine.port), '-U', 'strata', name], { stdio: 'ignore' });
  return engine.url.replace(/\/strata$/, `/${name}`);
}

/** A Redis 7 server without persistence. */
export async function startRedis(): Promise<Engine> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-redis-'));
  const port = await freePort();
  let child: ChildProcess | null = null;
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
      stdio: 'ignore',
    });
    await waitFor(() => {
      try {
        return (
          execFileSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() ===
          'PONG'
        );
      } catch {
        return false;
      }
    }, 'Redis');
  };
  await start();
  const engine: Engine = {
    url: `redis://127.0.0.1:${port}`,
    port,
    start,
    stop: (options = {}) => stopProcess(child, options.kill ? 'SIGKILL' : 'SIGTERM'),
    async dispose() {
      await engine.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return engine;
}
