#!/usr/bin/env node
/**
 * `npm run cluster`: strata as a cluster on one machine, on real engines: PostgreSQL (scenes, event
 * log, blobs), Redis (fan-out, presence, limits, leases, the job queue), two API replicas (each also
 * serving the web app), two inference worker processes, and nginx in front on one port (`PORT`,
 * default 4000), proxying HTTP and WebSocket to both replicas. Data under ./data/cluster (or
 * `STRATA_CLUSTER_DIR`). Ctrl-C stops everything.
 *
 * Also a module: the cluster tests start the same cluster with `startCluster()`.
 */
import { spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync, createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PG_BIN = '/usr/lib/postgresql/15/bin';

export async function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
  });
}

async function waitFor(check, what, ms = 60_000) {
  const until = Date.now() + ms;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > until) throw new Error(`${what} did not come up within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

const isRoot = process.getuid?.() === 0;
function postgresUser() {
  if (!isRoot) return {};
  return {
    uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })),
    gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })),
  };
}

function need(path, pkg) {
  if (!existsSync(path)) throw new Error(`${path} is missing: install Debian's ${pkg} (apt-get install ${pkg})`);
}

/**
 * Start the whole cluster. Options: port (nginx; 0 = free), dir (data), replicas (2), workers (2),
 * web (serve the web app from the replicas; needs `npm run build`), env (extra environment for
 * the strata processes), quiet (no process output on the console).
 */
export async function startCluster(options = {}) {
  const dir = resolve(options.dir ?? process.env.STRATA_CLUSTER_DIR ?? join(ROOT, 'data', 'cluster'));
  const replicas = options.replicas ?? 2;
  const workerCount = options.workers ?? 2;
  const web = options.web ?? true;
  mkdirSync(join(dir, 'logs'), { recursive: true });
  // PostgreSQL runs as the `postgres` user when we are root: it must be able to enter the directory.
  if (isRoot) chmodSync(dir, 0o755);
  need(join(PG_BIN, 'postgres'), 'postgresql');
  need('/usr/bin/redis-server', 'redis-server');
  need('/usr/sbin/nginx', 'nginx');
  const serverMain = join(ROOT, 'apps/server/dist/main.js');
  const webMain = join(ROOT, 'scripts/start.mjs');
  const workerMain = join(ROOT, 'apps/worker/dist/main.js');
  need(serverMain, 'the built server (npm run build)');
  need(workerMain, 'the built worker (npm run build)');

  const processes = new Map();
  let stopping = false;
  const log = (name, line) => {
    if (!options.quiet) process.stdout.write(`${name.padEnd(9)} | ${line}\n`);
  };
  /** Start (or restart) a named process; its output goes to logs/<name>.log and the console. */
  const run = (name, command, args, extra = {}) => {
    const file = createWriteStream(join(dir, 'logs', `${name}.log`), { flags: 'a' });
    const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], ...extra });
    for (const stream of [child.stdout, child.stderr]) {
      let buffer = '';
      stream.on('data', (chunk) => {
        file.write(chunk);
        buffer += chunk.toString();
        let i;
        while ((i = buffer.indexOf('\n')) >= 0) {
          log(name, buffer.slice(0, i));
          buffer = buffer.slice(i + 1);
        }
      });
    }
    child.on('exit', (code, signal) => {
      file.end();
      if (!stopping && processes.get(name)?.child === child) log(name, `exited (${signal ?? code})`);
    });
    const entry = { name, child, command, args, extra };
    processes.set(name, entry);
    return entry;
  };

  // PostgreSQL: a cluster of its own under <dir>/postgres, trust auth on 127.0.0.1 only.
  const pgDir = join(dir, 'postgres');
  const pgUser = postgresUser();
  if (!existsSync(join(pgDir, 'PG_VERSION'))) {
    mkdirSync(pgDir, { recursive: true });
    if (isRoot) execFileSync('chown', ['-R', 'postgres', pgDir]);
    chmodSync(pgDir, 0o700);
    execFileSync(join(PG_BIN, 'initdb'), ['-D', pgDir, '-U', 'strata', '--auth=trust', '-E', 'UTF8'], {
      stdio: 'ignore',
      cwd: '/',
      ...pgUser,
    });
  }
  const pgPort = options.postgresPort ?? (await freePort());
  const sock = join(dir, 'run');
  mkdirSync(sock, { recursive: true });
  if (isRoot) execFileSync('chown', ['postgres', sock]);
  const pgArgs = ['-D', pgDir, '-p', String(pgPort), '-h', '127.0.0.1', '-k', sock, '-c', 'max_connections=200'];
  run('postgres', join(PG_BIN, 'postgres'), pgArgs, { cwd: '/', ...pgUser });
  const pgReady = () => {
    execFileSync(join(PG_BIN, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(pgPort), '-U', 'strata'], { stdio: 'ignore' });
    return true;
  };
  await waitFor(pgReady, 'PostgreSQL');
  try {
    execFileSync(join(PG_BIN, 'createdb'), ['-h', '127.0.0.1', '-p', String(pgPort), '-U', 'strata', 'strata'], { stdio: 'ignore' });
  } catch {
    // exists already
  }
  const databaseUrl = `postgres://strata@127.0.0.1:${pgPort}/strata`;

  // Redis, with an append-only file so queued jobs survive a restart.
  const redisDir = join(dir, 'redis');
  mkdirSync(redisDir, { recursive: true });
  const redisPort = options.redisPort ?? (await freePort());
  const redisArgs = [
    '--port',
    String(redisPort),
    '--bind',
    '127.0.0.1',
    '--dir',
    redisDir,
    '--appendonly',
    options.redisPersistence === false ? 'no' : 'yes',
    '--save',
    '',
  ];
  run('redis', 'redis-server', redisArgs);
  const redisReady = () =>
    execFileSync('redis-cli', ['-p', String(redisPort), 'ping'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() ===
    'PONG';
  await waitFor(redisReady, 'Redis');
  const redisUrl = `redis://127.0.0.1:${redisPort}`;

  // One signing secret for every replica, so a session made on one is valid on the other.
  const secretFile = join(dir, 'secret.key');
  if (!existsSync(secretFile)) writeFileSync(secretFile, randomBytes(32).toString('hex'), { mode: 0o600 });
  const common = {
    ...process.env,
    STRATA_DATABASE_URL: databaseUrl,
    STRATA_REDIS_URL: redisUrl,
    STRATA_SECRET: readFileSync(secretFile, 'utf8').trim(),
    NEXT_TELEMETRY_DISABLED: '1',
    ...options.env,
  };

  const workers = [];
  for (let i = 1; i <= workerCount; i++) {
    const name = `worker-${i}`;
    // Each worker serves GET /metrics and GET /health on a port of its own.
    const port = await freePort();
    const env = {
      ...common,
      STRATA_ROLE: 'worker',
      STRATA_REPLICA_ID: name,
      STRATA_WORKERS: '1',
      STRATA_DATA_DIR: join(dir, name),
      PORT: String(port),
      HOST: '127.0.0.1',
    };
    workers.push({ ...run(name, process.execPath, [workerMain], { env }), port, url: `http://127.0.0.1:${port}` });
  }
  const apis = [];
  for (let i = 1; i <= replicas; i++) {
    const name = `api-${i}`;
    const port = await freePort();
    const env = {
      // nginx is on loopback: believe its X-Forwarded-* (client address, scheme, host).
      STRATA_TRUST_PROXY: 'loopback',
      ...common,
      STRATA_ROLE: 'api',
      STRATA_REPLICA_ID: name,
      PORT: String(port),
      HOST: '127.0.0.1',
      STRATA_DATA_DIR: join(dir, name),
    };
    apis.push({ ...run(name, process.execPath, [web ? webMain : serverMain], { env }), port, url: `http://127.0.0.1:${port}` });
  }
  // Replicas start in parallel; each one is ready when its dependencies answer.
  await Promise.all(apis.map((api) => waitFor(async () => (await fetch(`${api.url}/health/ready`)).ok, api.name, 120_000)));

  // nginx in front: any replica, HTTP and WebSocket; a refused connection goes to the other replica.
  const nginxDir = join(dir, 'nginx');
  mkdirSync(join(nginxDir, 'tmp'), { recursive: true });
  const port = options.port ?? Number(process.env.PORT || 4000);
  const listenPort = port === 0 ? await freePort() : port;
  const conf = `daemon off;
worker_processes 1;
pid ${nginxDir}/nginx.pid;
error_log ${nginxDir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${nginxDir}/tmp/body;
  proxy_temp_path ${nginxDir}/tmp/proxy;
  fastcgi_temp_path ${nginxDir}/tmp/fastcgi;
  uwsgi_temp_path ${nginxDir}/tmp/uwsgi;
  scgi_temp_path ${nginxDir}/tmp/scgi;
  client_max_body_size 2m;
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  upstream strata {
${apis.map((a) => `    server 127.0.0.1:${a.port} max_fails=1 fail_timeout=3s;`).join('\n')}
    keepalive 32;
  }
  server {
    listen 127.0.0.1:${listenPort};
    location / {
      proxy_pass http://strata;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      # The client's Host with its port: replicas check a cookie's WebSocket Origin against it.
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_read_timeout 1h;
      proxy_send_timeout 1h;
      proxy_buffering off;
      proxy_next_upstream error timeout http_502;
    }
  }
}
`;
  writeFileSync(join(nginxDir, 'nginx.conf'), conf);
  run('nginx', '/usr/sbin/nginx', ['-p', nginxDir, '-c', join(nginxDir, 'nginx.conf')]);
  const url = `http://127.0.0.1:${listenPort}`;
  await waitFor(async () => (await fetch(`${url}/health`)).ok, 'nginx');

  const signal = (name, sig) =>
    new Promise((ok) => {
      const entry = processes.get(name);
      if (!entry || entry.child.exitCode !== null || entry.child.signalCode !== null) return ok();
      entry.child.once('exit', () => ok());
      entry.child.kill(sig);
    });
  const cluster = {
    url,
    databaseUrl,
    redisUrl,
    apis,
    workers,
    /** Stop one process: SIGKILL with `kill: true`, else a clean stop. */
    stopProcess: (name, { kill = false } = {}) => signal(name, kill ? 'SIGKILL' : name === 'postgres' ? 'SIGINT' : 'SIGTERM'),
    /** Start a stopped process again, with the same arguments and port. */
    async startProcess(name) {
      const entry = processes.get(name);
      run(name, entry.command, entry.args, entry.extra);
      if (name === 'postgres') await waitFor(pgReady, 'PostgreSQL');
      else if (name === 'redis') await waitFor(redisReady, 'Redis');
      else if (name.startsWith('api-')) {
        const api = apis.find((a) => a.name === name);
        api.child = processes.get(name).child;
        await waitFor(async () => (await fetch(`${api.url}/health/ready`)).ok, name, 120_000);
      }
    },
    async stop() {
      stopping = true;
      await signal('nginx', 'SIGQUIT');
      await Promise.all(apis.map((a) => signal(a.name, 'SIGTERM')));
      await Promise.all(workers.map((w) => signal(w.name, 'SIGTERM')));
      await signal('redis', 'SIGTERM');
      await signal('postgres', 'SIGINT');
    },
  };
  return cluster;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  startCluster()
    .then((cluster) => {
      process.stdout.write(
        `\n  strata cluster is running: 2 API replicas, 2 inference workers, PostgreSQL, Redis, nginx\n\n` +
          `  Open ${cluster.url.replace('127.0.0.1', 'localhost')}            the web app (through nginx)\n` +
          `       ${cluster.url.replace('127.0.0.1', 'localhost')}/graphql    the GraphQL API (HTTP and WebSocket)\n` +
          `  Replicas: ${cluster.apis.map((a) => `${a.name} ${a.url}`).join(', ')}  (each has /metrics and /health)\n` +
          `  Ctrl-C stops everything.\n\n`,
      );
      let done = false;
      const stop = () => {
        if (done) return;
        done = true;
        cluster.stop().finally(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    })
    .catch((error) => {
      process.stderr.write(`strata cluster: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    });
}
