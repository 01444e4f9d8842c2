/** Decoded images kept: a long session streams thousands of frames; recent ones are what is shown. */
const CACHE_SIZE = 256;
const cache = new Map<string, Promise<HTMLImageElement>>();

/** Load an image once per URL (frame URLs are content-addressed and never change). */
export function loadImage(url: string): Promise<HTMLImageElement> {
  let pending = cache.get(url);
  if (pending) {
    cache.delete(url); // most recently used last
    cache.set(url, pending);
  } else {
    pending = new Promise<HTMLImageElement>((resolve, reject) => {
      const image = new Image();
      image.decoding = 'async';
      image.onload = () => resolve(image);
      image.onerror = () => {
        cache.delete(url);
        reject(new Error(`could not load ${url}`));
      };
      image.src = url;
    });
    cache.set(url, pending);
    for (const oldest of cache.keys()) {
      if (cache.size <= CACHE_SIZE) break;
      cache.delete(oldest);
    }
  }
  return pending;
}

/** `image` drawn at `scale` times its size without smoothing, as a PNG blob. */
export async function scaledPng(image: HTMLImageElement, scale: number): Promise<Blob> {
  const canvas = document.createElement('canvas');
  canvas.width = image.naturalWidth * scale;
  canvas.height = image.naturalHeight * scale;
  const context = canvas.getContext('2d');
  if (!context) throw new Error('2D canvas is not available');
  context.imageSmoothingEnabled = false;
  context.drawImage(image, 0, 0, canvas.width, canvas.height);
  return new Promise((resolve, reject) => {
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('could not encode PNG'))), 'image/png');
  });
}
