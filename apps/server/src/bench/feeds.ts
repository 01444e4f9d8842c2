/** What both benches share: inference feeds from fixed seeds, and the tables they print. */
import type { InferenceRequest } from '../domain/ports.js';
import type { LoadedManifest } from '../infrastructure/onnx/manifest.js';
import { normalNoise } from '../lib/noise.js';

/** Inference feeds for one model at a batch size, from fixed seeds. */
export function benchFeeds(m: LoadedManifest, model: InferenceRequest['model'], batch: number): InferenceRequest['feeds'] {
  const { resolution: R, noise, categories, styles } = m.spec;
  const oneHot = (n: number) => {
    const v = new Float32Array(batch * n);
    for (let b = 0; b < batch; b++) v[b * n + (b % n)] = 1;
    return { data: v, dims: [batch, n] };
  };
  const z = (n: number) => ({ data: normalNoise(batch, batch * n), dims: [batch, n] });
  if (model === 'background') return { z: z(noise.background), style: oneHot(styles.length) };
  if (model === 'shape') return { category: oneHot(categories.length), z: z(noise.shape) };
  const mask = new Float32Array(batch * R * R);
  for (let b = 0; b < batch; b++) for (let y = R / 2; y < R - 4; y++) mask.fill(1, b * R * R + y * R + R / 4, b * R * R + y * R + R / 2);
  return {
    canvas: { data: new Float32Array(batch * 3 * R * R).fill(0.1), dims: [batch, 3, R, R] },
    mask: { data: mask, dims: [batch, 1, R, R] },
    category: oneHot(categories.length),
    z: z(noise.foreground),
  };
}

/** Print a markdown table under a heading (numbers: integers as they are, others to 2 decimals). */
export function table(title: string, headers: string[], rows: (string | number)[][]): void {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? (Number.isInteger(c) ? String(c) : c.toFixed(2)) : c)));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(`\n### ${title}\n`);
  console.log(line(headers));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  cells.forEach((r) => console.log(line(r)));
}
