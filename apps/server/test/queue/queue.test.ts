import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InferenceRequest, Tensor } from '../../src/domain/ports.js';
import { RenderScheduler } from '../../src/domain/rendering/scheduler.js';
import { loadManifest, type LoadedManifest } from '../../src/infrastructure/onnx/manifest.js';
import { WorkerPoolEngine } from '../../src/infrastructure/onnx/worker-pool.js';
import { QueueInferenceEngine } from '../../src/infrastructure/redis/queue-engine.js';
import { GROUP, encodeReply, queueKeys } from '../../src/infrastructure/redis/queue-protocol.js';
import { normalNoise } from '../../src/lib/noise.js';
import { hasRedis, startRedis, type Engine } from '../engines/engines.js';
import { eventually, spawnWorker, type WorkerProcess } from './workers.js';

const MODELS = fileURLToPath(new URL('../../../../models', import.meta.url));
/** Short timeouts so takeover and heartbeat expiry happen within a second or two. */
const FAST = { STRATA_HEARTBEAT_MS: '150', STRATA_CLAIM_TIMEOUT_MS: '800' };

const bits = (t: Tensor) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);

describe.skipIf(!hasRedis())('inference queue: Redis Streams and worker processes', () => {
  let server: Engine;
  let redis: Redis;
  let manifest: LoadedManifest;
  let reference: WorkerPoolEngine;
  let engine: QueueInferenceEngine;
  const processes: WorkerProcess[] = [];
  const worker = (id: string, env: Record<string, string>) => {
    const p = spawnWorker(id, { STRATA_REDIS_URL: server.url, ...FAST, ...env });
    processes.push(p);
    return p;
  };

  const bg = (seeds: number[]): InferenceRequest['feeds'] => {
    const { noise, styles } = manifest.spec;
    const z = new Float32Array(seeds.length * noise.background);
    seeds.forEach((s, i) => z.set(normalNoise(s, noise.background), i * noise.background));
    const style = new Float32Array(seeds.length * styles.length);
    seeds.forEach((s, i) => (style[i * styles.length + (s % styles.length)] = 1));
    return { z: { data: z, dims: [seeds.length, noise.background] }, style: { data: style, dims: [seeds.length, styles.length] } };
  };
  const seeds = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);
  const hashes = (r: { images: { hash: string }[] }) => r.images.map((i) => i.hash);

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
    redis.on('error', () => undefined);
    manifest = await loadManifest(MODELS);
    const a = worker('A', { STRATA_QUEUE_PREFIX: 'q1', STRATA_EXECUTION_PROVIDER: 'auto', STRATA_LOG: 'info' });
    const b = worker('B', { STRATA_QUEUE_PREFIX: 'q1', STRATA_LOG: 'info' });
    reference = await WorkerPoolEngine.start({ files: manifest.files, tensors: manifest.tensors, provider: 'cpu', threads: 1 }, 1);
    await Promise.all([a.ready, b.ready]);
    engine = await QueueInferenceEngine.start({
      redis,
      modelVersion: manifest.spec.version,
      prefix: 'q1',
      refreshMs: 50,
      timeoutMs: 30_000,
    });
    await engine.waitForWorkers(2);
  }, 120_000);

  afterAll(async () => {
    for (const p of processes) p.kill('SIGKILL');
    await engine?.close();
    await reference?.close();
    redis?.disconnect();
    await server?.dispose();
  });

  it('[queue-1] lists the live workers; workers = their inference threads, provider = what they report', async () => {
    const workers = await engine.listWorkers();
    expect(workers.map((w) => w.id).sort()).toEqual(['A', 'B']);
    for (const w of workers) {
      expect(w).toMatchObject({ provider: 'cpu', modelVersion: manifest.spec.version, threads: 1, threadsPerWorker: 1 });
      expect(Date.parse(w.seenAt)).toBeGreaterThanOrEqual(Date.parse(w.startedAt));
    }
    expect(workers.find((w) => w.id === 'A')!.requestedProvider).toBe('auto');
    expect(engine.workers).toBe(2);
    expect(engine.provider).toBe('cpu');
    // One start line naming the provider; with `auto` on this CPU-only host, why CUDA and WebGPU did not load.
    const line = await processes[0]!.ready;
    expect(line).toMatch(new RegExp(`^strata worker A: models ${manifest.spec.version} on (cpu|webgpu|cuda)`));
    if (line.includes(' on cpu (auto')) expect(line).toMatch(/cuda: .+; webgpu: .+\)/);
  });

  it('[queue-2] gives the same outputs as the in-process pool, bit for bit (PNG hashes and floats)', async () => {
    const { categories, noise, resolution: R } = manifest.spec;
    const encoded: InferenceRequest = { model: 'background', feeds: bg([1, 2, 3]), encode: true };
    const raw: InferenceRequest = { model: 'background', feeds: bg([4, 5]), encode: false };
    const category = new Float32Array(2 * categories.length);
    category[0] = 1;
    category[categories.length + 2] = 1;
    const z = new Float32Array(2 * noise.shape);
    z.set(normalNoise(7, noise.shape));
    z.set(normalNoise(8, noise.shape), noise.shape);
    const shape: InferenceRequest = {
      model: 'shape',
      encode: false,
      feeds: { category: { data: category, dims: [2, categories.length] }, z: { data: z, dims: [2, noise.shape] } },
    };
    const mask = new Float32Array(R * R).map((_, i) => (Math.hypot((i % R) - R / 2, Math.floor(i / R) - R / 2) < R / 4 ? 1 : 0));
    const canvas = new Float32Array(3 * R * R).map((_, i) => Math.sin(i) * 0.8);
    const fg: InferenceRequest = {
      model: 'foreground',
      encode: true,
      feeds: {
        canvas: { data: canvas, dims: [1, 3, R, R] },
        mask: { data: mask, dims: [1, 1, R, R] },
        category: { data: category.slice(0, categories.length), dims: [1, categories.length] },
        z: { data: normalNoise(9, noise.foreground), dims: [1, noise.foreground] },
      },
    };
    for (const request of [encoded, raw, shape, fg]) {
      const [viaQueue, local] = await Promise.all([engine.run(request), reference.run(request)]);
      expect(hashes(viaQueue)).toEqual(hashes(local));
      viaQueue.images.forEach((img, i) => expect(Buffer.compare(Buffer.from(img.rgb), Buffer.from(local.images[i]!.rgb))).toBe(0));
      expect(Object.keys(viaQueue.outputs).sort()).toEqual(Object.keys(local.outputs).sort());
      for (const [name, t] of Object.entries(local.outputs)) {
        expect(viaQueue.outputs[name]!.dims).toEqual(t.dims);
        expect(bits(viaQueue.outputs[name]!).equals(bits(t))).toBe(true);
      }
    }
    expect(engine.stats()).toMatchObject({ failed: 0, timedOut: 0, pending: 0 });
  });

  it('[queue-3] keeps the scheduler working unchanged: round-robin batches over the queue', async () => {
    const scheduler = new RenderScheduler(engine, { batching: true, maxBatch: 4, maxWaitMs: 2 });
    const steps = seeds(20, 9).map((s, i) =>
      scheduler.submit({ sceneId: `scene-${i % 3}`, model: 'background', feeds: bg([s]), encode: true }),
    );
    const results = await Promise.all(steps);
    const expected = hashes(await reference.run({ model: 'background', feeds: bg(seeds(20, 9)), encode: true }));
    expect(results.map((r) => r.image!.hash)).toEqual(expected);
    expect(scheduler.stats()).toMatchObject({ stepsRun: 9, queueDepth: 0, inFlight: 0 });
    scheduler.close();
  });

  it('[queue-4] ignores a second reply for a job already answered', async () => {
    const before = engine.stats();
    const result = await engine.run({ model: 'background', feeds: bg([30]), encode: true });
    const id = `${engine.replicaId}:${before.submitted + 1}`;
    // What a worker that was only slow sends after another took its job over.
    await redis.lpush(
      queueKeys('q1', manifest.spec.version).replies(engine.replicaId),
      encodeReply({ id, worker: 'late', batch: { jobs: 1, items: 1 }, result, error: null }),
    );
    await eventually(() => engine.stats().duplicates === before.duplicates + 1, 'the duplicate to be read');
    expect(engine.stats()).toMatchObject({ resolved: before.resolved + 1, failed: before.failed, pending: 0 });
  });

  /** A batch that takes a while on one CPU thread, so a worker can be stopped in the middle of it. */
  const bigBatch = (from: number): InferenceRequest => ({ model: 'background', feeds: bg(seeds(from, 96)), encode: true });

  /** The consumer that holds the only pending entry of a stream, once one does. */
  const holder = (prefix: string) =>
    eventually(async () => {
      const [count, , , consumers] = (await redis.xpending(queueKeys(prefix, manifest.spec.version).jobs('background'), GROUP)) as [
        number,
        string,
        string,
        [string, string][] | null,
      ];
      return count === 1 && consumers?.length === 1 ? consumers[0]![0] : null;
    }, 'a worker to take the job');

  it('[queue-5] kill -9 mid-batch: the other worker takes the job over after the timeout, the caller gets one result', async () => {
    const before = engine.stats();
    const request = bigBatch(1000);
    const expected = reference.run(request);
    const result = engine.run(request);
    const victimId = await holder('q1');
    const victim = processes.find((p) => p.id === victimId)!;
    victim.kill('SIGKILL');
    expect((await victim.exited).signal).toBe('SIGKILL');
    const survivor = victimId === 'A' ? 'B' : 'A';
    const got = await result;
    expect(got.worker).toBe(survivor);
    expect(hashes(got)).toEqual(hashes(await expected));
    expect(processes.find((p) => p.id === survivor)!.output()).toContain('queue worker: took over jobs');
    // Its heartbeat expires: `workers` drops to the survivor's thread, the list no longer shows it.
    await eventually(() => engine.workers === 1, 'the killed worker to drop out');
    expect((await engine.listWorkers()).map((w) => w.id)).toEqual([survivor]);
    await new Promise((r) => setTimeout(r, 300));
    expect(engine.stats()).toMatchObject({ resolved: before.resolved + 1, duplicates: before.duplicates, failed: 0, pending: 0 });
    const keys = queueKeys('q1', manifest.spec.version);
    expect(await redis.xlen(keys.jobs('background'))).toBe(0);
  });

  it('[queue-6] SIGTERM mid-batch: the worker finishes its batch, answers, leaves the list and exits 0', async () => {
    const [survivor] = await engine.listWorkers();
    const proc = processes.find((p) => p.id === survivor!.id)!;
    const result = engine.run(bigBatch(2000));
    expect(await holder('q1')).toBe(proc.id);
    proc.kill('SIGTERM');
    expect((await result).worker).toBe(proc.id);
    expect(await proc.exited).toEqual({ code: 0, signal: null });
    // Removed at once, not after the heartbeat expires.
    expect(await engine.listWorkers()).toEqual([]);
    await eventually(() => engine.workers === 0, 'workers to reach 0', 1000);
    expect(engine.provider).toBe('none');
  });

  it('[queue-7] a worker reads the jobs waiting in a stream together and runs them as one batch; expired ones are dropped', async () => {
    const options = { redis, modelVersion: manifest.spec.version, prefix: 'q2', refreshMs: 50 };
    const waiting = await QueueInferenceEngine.start(options);
    const impatient = await QueueInferenceEngine.start({ ...options, timeoutMs: 100 });
    try {
      // No worker yet: the jobs wait in the stream (the impatient one gives up).
      await expect(impatient.run({ model: 'background', feeds: bg([40]), encode: true })).rejects.toThrow(/no inference worker answered/);
      const sizes = [1, 3, 2, 1];
      let next = 50;
      const requests = sizes.map((n) => {
        const feeds = bg(seeds(next, n));
        next += n;
        return { model: 'background' as const, feeds, encode: true };
      });
      const results = Promise.all(requests.map((r) => waiting.run(r)));
      const stream = queueKeys('q2', manifest.spec.version).jobs('background');
      await eventually(async () => (await redis.xlen(stream)) === 5, 'five entries in the stream');
      const joiner = worker('C', { STRATA_QUEUE_PREFIX: 'q2' });
      await joiner.ready;
      const got = await results;
      for (const r of got) {
        expect(r.worker).toBe('C');
        expect(r.batch).toEqual({ jobs: 4, items: 7 });
        expect(r.runMs).toBe(got[0]!.runMs); // one session run
      }
      const expected = hashes(await reference.run({ model: 'background', feeds: bg(seeds(50, 7)), encode: true }));
      expect(got.flatMap(hashes)).toEqual(expected);
      await eventually(async () => (await redis.xlen(stream)) === 0, 'the stream to be empty (the expired job dropped)');
      // Its heartbeat counts four jobs answered in one session run.
      await eventually(async () => {
        const [info] = await waiting.listWorkers();
        return info?.jobs === 4 && info.runs === 1;
      }, 'the heartbeat to count the batch');
      joiner.kill('SIGTERM');
      expect(await joiner.exited).toEqual({ code: 0, signal: null });
    } finally {
      await waiting.close();
      await impatient.close();
    }
  });

  it('[queue-8] SIGTERM with no time to finish: the job is handed back and the other worker answers it', async () => {
    const options = { redis, modelVersion: manifest.spec.version, prefix: 'q3', refreshMs: 50 };
    const q3 = await QueueInferenceEngine.start(options);
    try {
      const env = { STRATA_QUEUE_PREFIX: 'q3', STRATA_DRAIN_MS: '0', STRATA_LOG: 'info' };
      const d = worker('D', env);
      const e = worker('E', env);
      await Promise.all([d.ready, e.ready]);
      await q3.waitForWorkers(2);
      const request = bigBatch(3000);
      const result = q3.run(request);
      const leaving = await holder('q3');
      processes.find((p) => p.id === leaving)!.kill('SIGTERM');
      const got = await result;
      expect(got.worker).toBe(leaving === 'D' ? 'E' : 'D');
      // Handed back (added to the stream again), not taken over after the claim timeout.
      const other = processes.find((p) => p.id === got.worker)!;
      expect(processes.find((p) => p.id === leaving)!.output()).toContain('queue worker: handed jobs back');
      expect(other.output()).not.toContain('took over jobs');
      expect(hashes(got)).toEqual(hashes(await reference.run(request)));
      expect(await processes.find((p) => p.id === leaving)!.exited).toEqual({ code: 0, signal: null });
      await new Promise((r) => setTimeout(r, 200));
      expect(q3.stats()).toMatchObject({ resolved: 1, duplicates: 0, failed: 0 });
    } finally {
      await q3.close();
    }
  });

  it('[queue-10] a Redis restart (no persistence) loses the streams: jobs waiting are sent again, workers rejoin', async () => {
    const q5 = await QueueInferenceEngine.start({ redis, modelVersion: manifest.spec.version, prefix: 'q5', refreshMs: 50 });
    try {
      const stream = queueKeys('q5', manifest.spec.version).jobs('background');
      const result = q5.run({ model: 'background', feeds: bg([60]), encode: true });
      await eventually(async () => (await redis.xlen(stream)) === 1, 'the job in the stream');
      await server.stop({ kill: true });
      await server.start();
      await eventually(async () => (await redis.xlen(stream).catch(() => 0)) === 1, 'the job sent again');
      expect(q5.stats().resent).toBe(1);
      const g = worker('G', { STRATA_QUEUE_PREFIX: 'q5' });
      await g.ready;
      const expected = await reference.run({ model: 'background', feeds: bg([60, 61]), encode: true });
      expect(hashes(await result)).toEqual(hashes(expected).slice(0, 1));
      await server.stop({ kill: true });
      await server.start();
      // The worker recreates the consumer group and its heartbeat; the next job goes through.
      await q5.waitForWorkers(1, 10_000);
      expect(hashes(await q5.run({ model: 'background', feeds: bg([61]), encode: true }))).toEqual(hashes(expected).slice(1));
    } finally {
      await q5.close();
    }
  });

  it('[queue-9] a worker refuses models that do not match their manifest, with a clear message', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-models-'));
    try {
      const raw = JSON.parse(readFileSync(join(MODELS, 'manifest.json'), 'utf8')) as { models: Record<string, { file: string }> };
      for (const { file } of Object.values(raw.models)) symlinkSync(join(MODELS, file), join(dir, file));
      cpSync(join(MODELS, 'manifest.json'), join(dir, 'manifest.json'));
      const tampered = readFileSync(join(dir, 'manifest.json'), 'utf8').replace(/"sha256": "[0-9a-f]{8}/, '"sha256": "00000000');
      writeFileSync(join(dir, 'manifest.json'), tampered);
      const bad = worker('F', { STRATA_QUEUE_PREFIX: 'q4', STRATA_MODELS_DIR: dir });
      await expect(bad.ready).rejects.toThrow();
      expect(await bad.exited).toEqual({ code: 1, signal: null });
      expect(bad.output()).toMatch(
        /^strata worker: models\/manifest\.json: models\.\w+\.file \S+ has sha256 [0-9a-f]{64}, the manifest says 00000000/m,
      );
      expect(await redis.exists(queueKeys('q4', manifest.spec.version).worker('F'))).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
