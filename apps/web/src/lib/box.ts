/** A box in normalised canvas coordinates: (0,0) top left, (1,1) bottom right. */
export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** A point in normalised canvas coordinates. */
export interface Point {
  x: number;
  y: number;
}

/** Which part of a box a drag holds: the body (move) or a corner (resize). */
export type BoxHandle = 'move' | 'nw' | 'ne' | 'sw' | 'se';

/** The smallest side the API accepts, in canvas pixels. */
export const MIN_BOX_PIXELS = 2;

const clamp = (value: number, min: number, max: number): number => Math.min(max, Math.max(min, value));

/** Round to whole canvas pixels (the model paints on a pixel grid) and keep the box inside the canvas. */
export function snapBox(box: Box, resolution: number): Box {
  const px = (v: number) => Math.round(v * resolution);
  const w = clamp(px(box.w), MIN_BOX_PIXELS, resolution);
  const h = clamp(px(box.h), MIN_BOX_PIXELS, resolution);
  const x = clamp(px(box.x), 0, resolution - w);
  const y = clamp(px(box.y), 0, resolution - h);
  return { x: x / resolution, y: y / resolution, w: w / resolution, h: h / resolution };
}

/** The box spanned by two corners, in any order. */
export function boxFromCorners(a: Point, b: Point): Box {
  return { x: Math.min(a.x, b.x), y: Math.min(a.y, b.y), w: Math.abs(a.x - b.x), h: Math.abs(a.y - b.y) };
}

/** True when the box is at least {@link MIN_BOX_PIXELS} on both sides. */
export function isDrawable(box: Box, resolution: number): boolean {
  return box.w * resolution >= MIN_BOX_PIXELS && box.h * resolution >= MIN_BOX_PIXELS;
}

/** `box` dragged by `delta` while holding `handle`; moves stay inside the canvas. */
export function dragBox(box: Box, handle: BoxHandle, delta: Point): Box {
  if (handle === 'move') {
    return { ...box, x: clamp(box.x + delta.x, 0, 1 - box.w), y: clamp(box.y + delta.y, 0, 1 - box.h) };
  }
  const left = handle === 'nw' || handle === 'sw' ? box.x + delta.x : box.x;
  const right = handle === 'ne' || handle === 'se' ? box.x + box.w + delta.x : box.x + box.w;
  const top = handle === 'nw' || handle === 'ne' ? box.y + delta.y : box.y;
  const bottom = handle === 'sw' || handle === 'se' ? box.y + box.h + delta.y : box.y + box.h;
  return boxFromCorners({ x: clamp(left, 0, 1), y: clamp(top, 0, 1) }, { x: clamp(right, 0, 1), y: clamp(bottom, 0, 1) });
}

/** True when `point` lies inside `box`. */
export function containsPoint(box: Box, point: Point): boolean {
  return point.x >= box.x && point.x <= box.x + box.w && point.y >= box.y && point.y <= box.y + box.h;
}

/** True when two boxes are the same to a thousandth of the canvas. */
export function sameBox(a: Box, b: Box): boolean {
  return (['x', 'y', 'w', 'h'] as const).every((k) => Math.abs(a[k] - b[k]) < 1e-3);
}

/** Box in canvas pixels, for forms and labels. */
export function toPixels(box: Box, resolution: number): Box {
  const px = (v: number) => Math.round(v * resolution * 100) / 100;
  return { x: px(box.x), y: px(box.y), w: px(box.w), h: px(box.h) };
}
