/**
 * The wire format between API replicas (QueueInferenceEngine) and inference workers (QueueWorker):
 * Redis keys, job entries, replies, worker heartbeats. Tensors and images travel as binary.
 *
 *   <prefix>:jobs:<model>:<model version>   a stream per model and version; consumer group `workers`
 *   <prefix>:replies:<replica id>            a list per replica; workers LPUSH, the replica pops
 *   <prefix>:workers                         the set of worker ids
 *   <prefix>:worker:<id>                     a worker's heartbeat hash, expiring (WorkerInfo)
 *
 * The model version is part of the stream name: a worker only ever runs jobs of the exact models it
 * loaded, so a rolling upgrade can never put frames of one version under keys of another.
 */
import type { EncodedImage, InferenceRequest, InferenceResult, Tensor } from '../../domain/ports.js';

export const GROUP = 'workers';
export type ModelName = InferenceRequest['model'];
export const QUEUE_MODELS: readonly ModelName[] = ['background', 'foreground', 'shape'];

export interface QueueKeys {
  jobs(model: ModelName): string;
  replies(replicaId: string): string;
  workers: string;
  worker(id: string): string;
}

export function queueKeys(prefix: string, modelVersion: string): QueueKeys {
  return {
    jobs: (model) => `${prefix}:jobs:${model}:${modelVersion}`,
    replies: (replicaId) => `${prefix}:replies:${replicaId}`,
    workers: `${prefix}:workers`,
    worker: (id) => `${prefix}:worker:${id}`,
  };
}

/** A worker as its heartbeat describes it (what the runtime query lists). */
export interface WorkerInfo {
  id: string;
  host: string;
  pid: number;
  /** The execution provider its sessions run on (cpu, webgpu, cuda). */
  provider: string;
  /** What it was asked for (auto, cpu, webgpu, cuda). */
  requestedProvider: string;
  modelVersion: string;
  /** Inference threads (sessions) in the worker: batches it runs at once. */
  threads: number;
  threadsPerWorker: number;
  /** Most batch items it merges into one session run. */
  maxBatch: number;
  startedAt: string;
  /** Its last heartbeat (the worker's clock). */
  seenAt: string;
  /** Jobs answered, session runs, and runs in flight at the last heartbeat. */
  jobs: number;
  runs: number;
  busy: number;
}

export function workerInfoFields(info: WorkerInfo): string[] {
  return Object.entries(info).flatMap(([k, v]) => [k, String(v)]);
}

export function parseWorkerInfo(hash: Record<string, string>): WorkerInfo | null {
  if (!hash['id'] || !hash['modelVersion']) return null;
  const n = (k: string) => Number(hash[k] ?? 0) || 0;
  return {
    id: hash['id'],
    host: hash['host'] ?? '',
    pid: n('pid'),
    provider: hash['provider'] ?? 'unknown',
    requestedProvider: hash['requestedProvider'] ?? '',
    modelVersion: hash['modelVersion'],
    threads: n('threads'),
    threadsPerWorker: n('threadsPerWorker'),
    maxBatch: n('maxBatch'),
    startedAt: hash['startedAt'] ?? '',
    seenAt: hash['seenAt'] ?? '',
    jobs: n('jobs'),
    runs: n('runs'),
    busy: n('busy'),
  };
}

// ---- binary framing: [u32 header length][header JSON][padding to 4][payload] ----

function frame(header: unknown, payloads: Uint8Array[]): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const start = 4 + json.length + ((4 - (json.length % 4)) % 4);
  const size = payloads.reduce((n, p) => n + p.byteLength, start);
  const out = Buffer.alloc(size);
  out.writeUInt32LE(json.length, 0);
  json.copy(out, 4);
  let offset = start;
  for (const p of payloads) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out;
}

function unframe<H>(buf: Buffer): { header: H; reader: (length: number) => Uint8Array } {
  const length = buf.readUInt32LE(0);
  const header = JSON.parse(buf.subarray(4, 4 + length).toString('utf8')) as H;
  let offset = 4 + length + ((4 - (length % 4)) % 4);
  return {
    header,
    // Copies, so the result owns aligned memory independent of ioredis' buffers.
    reader: (n) => {
      if (offset + n > buf.length) throw new Error('truncated queue message');
      const bytes = new Uint8Array(n);
      bytes.set(buf.subarray(offset, offset + n));
      offset += n;
      return bytes;
    },
  };
}

const bytesOf = (t: Tensor) => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
const sizeOf = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

interface TensorHeader {
  name: string;
  dims: number[];
}

/** Float32 tensors as one binary blob (the host's byte order: little-endian on every supported platform). */
export function packTensors(tensors: Record<string, Tensor>): Buffer {
  const entries = Object.entries(tensors);
  return frame(
    entries.map(([name, t]) => ({ name, dims: [...t.dims] })),
    entries.map(([, t]) => bytesOf(t)),
  );
}

export function unpackTensors(buf: Buffer): Record<string, Tensor> {
  const { header, reader } = unframe<TensorHeader[]>(buf);
  const out: Record<string, Tensor> = {};
  for (const { name, dims } of header) out[name] = { data: new Float32Array(reader(sizeOf(dims) * 4).buffer), dims };
  return out;
}

/** A job as a worker reads it from the stream. */
export interface Job {
  /** The stream entry id (for XACK). */
  entryId: string;
  stream: string;
  id: string;
  reply: string;
  model: ModelName;
  encode: boolean;
  /** Epoch ms after which the caller has given up: the job is dropped, not run. */
  deadline: number;
  feeds: Record<string, Tensor>;
  /** The raw fields, to hand the job back unchanged. */
  fields: Buffer[];
}

/** XADD field/value arguments of a job. */
export function jobFields(job: { id: string; reply: string; request: InferenceRequest; deadline: number }): (string | Buffer)[] {
  return [
    'id',
    job.id,
    'reply',
    job.reply,
    'model',
    job.request.model,
    'encode',
    job.request.encode ? '1' : '0',
    'deadline',
    String(job.deadline),
    'feeds',
    packTensors(job.request.feeds),
  ];
}

/** A stream entry ([id, [field, value, ...]]) as a job; null when it is not one (then it is dropped). */
export function parseJob(stream: string, entryId: string, fields: Buffer[]): Job | null {
  const map = new Map<string, Buffer>();
  for (let i = 0; i + 1 < fields.length; i += 2) map.set(fields[i]!.toString(), fields[i + 1]!);
  const text = (k: string) => map.get(k)?.toString();
  const model = text('model') as ModelName | undefined;
  const feeds = map.get('feeds');
  if (!text('id') || !text('reply') || !model || !QUEUE_MODELS.includes(model) || !feeds) return null;
  try {
    return {
      entryId,
      stream,
      id: text('id')!,
      reply: text('reply')!,
      model,
      encode: text('encode') === '1',
      deadline: Number(text('deadline')) || 0,
      feeds: unpackTensors(feeds),
      fields,
    };
  } catch {
    return null;
  }
}

/** What a replica gets back for a job. */
export interface Reply {
  id: string;
  worker: string;
  /** How many jobs and batch items ran in the same session run as this one. */
  batch: { jobs: number; items: number };
  result: InferenceResult | null;
  error: string | null;
}

interface ReplyHeader {
  id: string;
  worker: string;
  batch: { jobs: number; items: number };
  error: string | null;
  runMs: number;
  outputs: TensorHeader[];
  images: { hash: string; rgb: number; png: number }[];
}

export function encodeReply(reply: Reply): Buffer {
  const outputs = Object.entries(reply.result?.outputs ?? {});
  const images = reply.result?.images ?? [];
  const header: ReplyHeader = {
    id: reply.id,
    worker: reply.worker,
    batch: reply.batch,
    error: reply.error,
    runMs: reply.result?.runMs ?? 0,
    outputs: outputs.map(([name, t]) => ({ name, dims: [...t.dims] })),
    images: images.map((i) => ({ hash: i.hash, rgb: i.rgb.byteLength, png: i.png.byteLength })),
  };
  return frame(header, [...outputs.map(([, t]) => bytesOf(t)), ...images.flatMap((i) => [i.rgb, i.png])]);
}

export function decodeReply(buf: Buffer): Reply {
  const { header, reader } = unframe<ReplyHeader>(buf);
  if (header.error !== null) return { id: header.id, worker: header.worker, batch: header.batch, result: null, error: header.error };
  const outputs: Record<string, Tensor> = {};
  for (const { name, dims } of header.outputs) outputs[name] = { data: new Float32Array(reader(sizeOf(dims) * 4).buffer), dims };
  const images: EncodedImage[] = header.images.map((i) => ({ hash: i.hash, rgb: reader(i.rgb), png: reader(i.png) }));
  return { id: header.id, worker: header.worker, batch: header.batch, result: { outputs, images, runMs: header.runMs }, error: null };
}

/** Batch items in a set of feeds (the leading dimension). */
export function itemsOf(feeds: Record<string, Tensor>): number {
  const first = Object.values(feeds)[0];
  return first?.dims[0] ?? 0;
}

/** Concatenate several jobs' feeds along the batch axis; null when they do not line up (then they run apart). */
export function mergeFeeds(all: Record<string, Tensor>[]): Record<string, Tensor> | null {
  if (all.length === 1) return all[0]!;
  const names = Object.keys(all[0]!).sort();
  const out: Record<string, Tensor> = {};
  for (const name of names) {
    const parts = all.map((f) => f[name]);
    const tail = JSON.stringify(parts[0]?.dims.slice(1));
    if (parts.some((t) => !t || JSON.stringify(t.dims.slice(1)) !== tail)) return null;
    const data = new Float32Array(parts.reduce((n, t) => n + t!.data.length, 0));
    let offset = 0;
    for (const t of parts) {
      data.set(t!.data, offset);
      offset += t!.data.length;
    }
    out[name] = { data, dims: [parts.reduce((n, t) => n + t!.dims[0]!, 0), ...parts[0]!.dims.slice(1)] };
  }
  if (all.some((f) => Object.keys(f).length !== names.length)) return null;
  return out;
}

/** Split a merged result back into one result per job, given each job's item count. */
export function splitResult(result: InferenceResult, sizes: number[]): InferenceResult[] {
  let start = 0;
  return sizes.map((size) => {
    const outputs: Record<string, Tensor> = {};
    for (const [name, t] of Object.entries(result.outputs)) {
      const per = t.data.length / t.dims[0]!;
      outputs[name] = { data: t.data.subarray(start * per, (start + size) * per), dims: [size, ...t.dims.slice(1)] };
    }
    const images = result.images.slice(start, start + size);
    start += size;
    return { outputs, images, runMs: result.runMs };
  });
}
