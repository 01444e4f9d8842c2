/**
 * Seeded noise: the same seed gives the same numbers on every machine, so a scene is a pure
 * function of its specs and seeds. splitmix32 for uniforms, Box-Muller for normals.
 */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    z = (z ^ (z >>> 16)) >>> 0;
    return (z + 0.5) / 4294967296;
  };
}

/** `n` standard-normal numbers from `seed`, salted by `stream` so two uses of one seed differ. */
export function normalNoise(seed: number, n: number, stream = 0): Float32Array {
  const random = createRandom((seed ^ Math.imul(stream + 1, 0x27d4eb2d)) >>> 0);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(random()));
    const theta = 2 * Math.PI * random();
    out[i] = r * Math.cos(theta);
    if (i + 1 < n) out[i + 1] = r * Math.sin(theta);
  }
  return out;
}

/** A random seed in 0 .. 2^31-1 for inputs that omit one. */
export function randomSeed(): number {
  return Math.floor(Math.random() * 0x7fffffff);
}
