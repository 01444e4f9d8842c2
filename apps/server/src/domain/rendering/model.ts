/** A category or style, in model order. */
export interface Labelled {
  id: string;
  label: string;
}

/** What the domain needs to know about the loaded generators (from the manifest). */
export interface ModelSpec {
  version: string;
  resolution: number;
  shapeResolution: number;
  categories: Labelled[];
  styles: Labelled[];
  noise: { background: number; foreground: number; shape: number };
  /** Pixels by which the foreground model dilates the mask before compositing. */
  dilation: number;
  /** Where and how the models were trained, for people. */
  trainedOn: string;
}

/** A one-hot vector of `size` with a 1 at `index`. */
export function oneHot(index: number, size: number): Float32Array {
  const v = new Float32Array(size);
  v[index] = 1;
  return v;
}

export function categoryIndex(model: ModelSpec, id: string): number {
  return model.categories.findIndex((c) => c.id === id);
}

export function styleIndex(model: ModelSpec, id: string): number {
  return model.styles.findIndex((s) => s.id === id);
}
