import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ErrorCode } from '@strata/schema';
import { DomainError } from '../../domain/errors.js';
import type { EncodedImage, Tensor } from '../../domain/ports.js';
import { sha256 } from '../../lib/hash.js';
import { encodePng } from '../../lib/png.js';
import { MODEL_NAMES, type ModelName, type TensorDecl } from './manifest.js';

/** Which execution provider to use; `auto` tries CUDA and falls back to the CPU. */
export type ProviderChoice = 'auto' | 'cpu' | 'cuda';

export interface SessionOptions {
  files: Record<ModelName, string>;
  tensors: Record<ModelName, { inputs: TensorDecl[]; outputs: TensorDecl[] }>;
  provider: ProviderChoice;
  /** Intra-op threads per session. */
  threads: number;
}

export interface LoadedSessions {
  sessions: Record<ModelName, ort.InferenceSession>;
  provider: 'cpu' | 'cuda';
}

async function open(file: string, provider: 'cpu' | 'cuda', threads: number): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(file, {
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    // Spinning threads hurt badly when the other core is busy (see TRAPS).
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  });
}

/**
 * True when onnxruntime-node's CUDA provider library is installed next to its binding
 * (`ONNXRUNTIME_NODE_INSTALL=cuda12` at install time). Probing without it prints native errors.
 */
export function cudaInstalled(): boolean {
  try {
    const require = createRequire(import.meta.url);
    const root = dirname(require.resolve('onnxruntime-node/package.json'));
    return existsSync(join(root, 'bin', 'napi-v6', process.platform, process.arch, 'libonnxruntime_providers_cuda.so'));
  } catch {
    return false;
  }
}

/** Open one session per model, check its tensor names against the manifest. */
export async function loadSessions(options: SessionOptions): Promise<LoadedSessions> {
  let provider: 'cpu' | 'cuda' = options.provider === 'cuda' ? 'cuda' : 'cpu';
  const sessions = {} as Record<ModelName, ort.InferenceSession>;
  for (const name of MODEL_NAMES) {
    const file = options.files[name];
    if (options.provider === 'auto' && name === MODEL_NAMES[0] && cudaInstalled()) {
      try {
        sessions[name] = await open(file, 'cuda', options.threads);
        provider = 'cuda';
      } catch {
        provider = 'cpu';
      }
    }
    sessions[name] ??= await open(file, provider, options.threads);
    checkNames(name, sessions[name], options.tensors[name]);
  }
  return { sessions, provider };
}

function checkNames(name: ModelName, session: ort.InferenceSession, decl: { inputs: TensorDecl[]; outputs: TensorDecl[] }): void {
  const same = (a: readonly string[], b: string[]) => a.length === b.length && b.every((n) => a.includes(n));
  if (
    !same(
      session.inputNames,
      decl.inputs.map((t) => t.name),
    ) ||
    !same(
      session.outputNames,
      decl.outputs.map((t) => t.name),
    )
  ) {
    throw new DomainError(
      ErrorCode.MODEL_MISMATCH,
      `${name}.onnx has inputs [${session.inputNames.join(', ')}] and outputs [${session.outputNames.join(', ')}], the manifest declares [${decl.inputs
        .map((t) => t.name)
        .join(', ')}] and [${decl.outputs.map((t) => t.name).join(', ')}]`,
    );
  }
}

/**
 * Run every session once on zeros at batch 1: the first run of an ONNX session is several times
 * slower (allocation, kernel selection), and a user's first step should not pay for it.
 */
export async function warmUp(sessions: Record<ModelName, ort.InferenceSession>, tensors: SessionOptions['tensors']): Promise<void> {
  for (const name of MODEL_NAMES) {
    const feeds: Record<string, Tensor> = {};
    for (const input of tensors[name].inputs) {
      const dims = input.shape.map((d) => (d === 'batch' ? 1 : d));
      feeds[input.name] = { data: new Float32Array(dims.reduce((a, b) => a * b, 1)), dims };
    }
    for (let i = 0; i < 2; i++) await runSession(sessions[name], feeds);
  }
}

/** Run one model on float32 feeds. */
export async function runSession(
  session: ort.InferenceSession,
  feeds: Record<string, Tensor>,
): Promise<{ outputs: Record<string, Tensor>; runMs: number }> {
  const ortFeeds: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor('float32', t.data, t.dims);
  const started = performance.now();
  const result = await session.run(ortFeeds);
  const runMs = performance.now() - started;
  const outputs: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(result)) outputs[name] = { data: t.data as Float32Array, dims: t.dims };
  return { outputs, runMs };
}

/** Quantise a [B,3,R,R] image in [-1,1] to RGB bytes per item, encode each as PNG and hash it. */
export function encodeImages(image: Tensor): EncodedImage[] {
  const [batch, , height, width] = image.dims as [number, number, number, number];
  const plane = height * width;
  const images: EncodedImage[] = [];
  for (let b = 0; b < batch; b++) {
    const base = b * 3 * plane;
    const rgb = new Uint8Array(plane * 3);
    for (let i = 0; i < plane; i++) {
      for (let c = 0; c < 3; c++) {
        const v = Math.round((image.data[base + c * plane + i]! + 1) * 127.5);
        rgb[i * 3 + c] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    }
    const png = encodePng(rgb, width, height, 3);
    images.push({ rgb, png, hash: sha256(png) });
  }
  return images;
}
