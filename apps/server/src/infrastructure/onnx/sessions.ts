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

/** An execution provider a session can run on. */
export type ProviderName = 'cpu' | 'webgpu' | 'cuda';
/** Which execution provider to use; `auto` tries CUDA, then WebGPU, then the CPU (see AUTO_ORDER). */
export type ProviderChoice = 'auto' | ProviderName;
/** What `auto` tries, best first: the first whose sessions open and run wins. */
export const AUTO_ORDER: readonly ProviderName[] = ['cuda', 'webgpu', 'cpu'];
export const PROVIDER_CHOICES: readonly ProviderChoice[] = ['auto', 'cpu', 'webgpu', 'cuda'];

export interface SessionOptions {
  files: Record<ModelName, string>;
  tensors: Record<ModelName, { inputs: TensorDecl[]; outputs: TensorDecl[] }>;
  provider: ProviderChoice;
  /** Intra-op threads per session. */
  threads: number;
}

/** A provider that was tried and did not load, and why. */
export interface SkippedProvider {
  provider: ProviderName;
  reason: string;
}

export interface LoadedSessions {
  sessions: Record<ModelName, ort.InferenceSession>;
  provider: ProviderName;
  /** With `auto`: the better providers tried first, and why each did not load. */
  skipped: SkippedProvider[];
}

/** The provider a choice resolved to, and what was tried on the way; what a log line or the runtime query shows. */
export interface ProviderSelection {
  requested: ProviderChoice;
  provider: ProviderName;
  skipped: SkippedProvider[];
}

/** One line for logs: "cpu (auto; cuda: ..., webgpu: ...)". */
export function describeSelection(selection: ProviderSelection): string {
  if (selection.requested !== 'auto') return selection.provider;
  const why = selection.skipped.map((s) => `${s.provider}: ${s.reason}`).join('; ');
  return `${selection.provider} (auto${why ? `; ${why}` : ''})`;
}

async function open(file: string, provider: ProviderName, threads: number): Promise<ort.InferenceSession> {
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

function bindingDir(): string | null {
  try {
    const require = createRequire(import.meta.url);
    const root = dirname(require.resolve('onnxruntime-node/package.json'));
    return join(root, 'bin', 'napi-v6', process.platform, process.arch);
  } catch {
    return null;
  }
}

/**
 * True when onnxruntime-node's CUDA provider library is installed next to its binding
 * (`ONNXRUNTIME_NODE_INSTALL=cuda12` at install time). Probing without it prints native errors.
 */
export function cudaInstalled(): boolean {
  const dir = bindingDir();
  return dir !== null && existsSync(join(dir, 'libonnxruntime_providers_cuda.so'));
}

/** Whether the Vulkan loader (Debian's libvulkan1), which WebGPU (Dawn) needs on Linux, is on a usual path. */
export function vulkanLoaderFound(): boolean {
  if (process.platform !== 'linux') return true;
  const dirs = [
    ...(process.env['LD_LIBRARY_PATH'] ?? '').split(':').filter(Boolean),
    `/usr/lib/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`,
    '/usr/lib64',
    '/usr/lib',
    '/usr/local/lib',
  ];
  return dirs.some((d) => existsSync(join(d, 'libvulkan.so.1')));
}

/** The useful part of a native session-creation error: one line, without the source location. */
function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const adapter = /Failed to get a WebGPU adapter[^\n]*/.exec(message);
  const line = (adapter?.[0] ?? message.split('\n').find((l) => l.trim()) ?? message).trim();
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}

/** Why `provider` cannot be tried at all on this host, or null when it is worth trying. */
function unavailable(provider: ProviderName): string | null {
  if (provider === 'cuda' && !cudaInstalled()) {
    return `onnxruntime-node's CUDA provider is not installed (no libonnxruntime_providers_cuda.so in ${bindingDir() ?? 'its bin directory'}; see "Execution providers" in apps/server/ARCHITECTURE.md)`;
  }
  // Without a Vulkan loader Dawn cannot find an adapter (and prints a native warning to stderr): skip it.
  if (provider === 'webgpu' && !vulkanLoaderFound())
    return "libvulkan.so.1 not found: install libvulkan1 and the GPU vendor's Vulkan driver";
  return null;
}

/** Open, check and warm one session per model on one provider; releases what it opened when one fails. */
async function openAll(options: SessionOptions, provider: ProviderName): Promise<Record<ModelName, ort.InferenceSession>> {
  const sessions = {} as Record<ModelName, ort.InferenceSession>;
  try {
    for (const name of MODEL_NAMES) {
      sessions[name] = await open(options.files[name], provider, options.threads);
      checkNames(name, sessions[name], options.tensors[name]);
    }
    // A provider that opens a session may still fail on its first run (an unsupported kernel).
    await warmUp(sessions, options.tensors);
    return sessions;
  } catch (error) {
    await Promise.all(Object.values(sessions).map((s) => s.release().catch(() => undefined)));
    throw error;
  }
}

/**
 * Open one session per model on the chosen provider, check its tensor names against the manifest and
 * warm it up. `auto` tries AUTO_ORDER and keeps the first provider whose sessions open and run,
 * recording why each better one did not. A named provider that does not load is an error that says why.
 */
export async function loadSessions(options: SessionOptions): Promise<LoadedSessions> {
  const candidates = options.provider === 'auto' ? AUTO_ORDER : [options.provider];
  const skipped: SkippedProvider[] = [];
  for (const provider of candidates) {
    let reason = unavailable(provider);
    if (reason === null) {
      try {
        return { sessions: await openAll(options, provider), provider, skipped };
      } catch (error) {
        // A model that does not match the manifest is not the provider's fault: no fallback hides it.
        if (error instanceof DomainError) throw error;
        reason = reasonOf(error);
        if (provider === 'webgpu' && !vulkanLoaderFound())
          reason += " (libvulkan.so.1 not found: install libvulkan1 and the GPU vendor's Vulkan driver)";
      }
    }
    if (provider === 'cpu' || options.provider !== 'auto') throw new Error(`execution provider ${provider} did not load: ${reason}`);
    skipped.push({ provider, reason });
  }
  throw new Error('no execution provider loaded'); // unreachable: cpu is last in AUTO_ORDER
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
