/** A random seed in the API's range, 0 .. 2^31-1. */
export function randomSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}
